import { Uint8ArrayList } from 'uint8arraylist';
import type { AbortOptions, Stream } from '@libp2p/interface';
import { _encodeFrame } from '../channel.ts';
import {
  MalformedMessageError,
  MessageTooLargeError,
  UnexpectedEndOfStreamError,
} from './errors.ts';

// Directory messages travel as frames: an unsigned LEB128 length, then that many bytes.
// The reader checks the announced length against the caller's limit before buffering the body,
// so a peer cannot make us hold more than one frame's limit in memory.

const MAX_LENGTH_PREFIX = 5; // 5 × 7 bits covers any frame this protocol allows

// One frame encoder for every Cairn protocol.
export { _encodeFrame };

/** Reads successive frames from one stream. */
export class _FrameReader {
  private readonly buffer = new Uint8ArrayList();
  private readonly source: AsyncIterator<Uint8Array | Uint8ArrayList>;
  private ended = false;

  constructor(stream: AsyncIterable<Uint8Array | Uint8ArrayList>) {
    this.source = stream[Symbol.asyncIterator]();
  }

  /** The next frame's payload, or undefined when the stream ended cleanly between frames. */
  async next(maxSize: number): Promise<Uint8Array | undefined> {
    let length: number | undefined;
    let prefixLength = 0;
    for (;;) {
      if (length == null) {
        const parsed = this.parseLength(maxSize);
        if (parsed != null) [length, prefixLength] = parsed;
      }
      if (length != null && this.buffer.byteLength >= prefixLength + length) {
        const payload = this.buffer.subarray(prefixLength, prefixLength + length);
        this.buffer.consume(prefixLength + length);
        return payload;
      }
      if (this.ended || !(await this.pull())) {
        if (this.buffer.byteLength === 0 && length == null) return undefined;
        throw new UnexpectedEndOfStreamError('stream ended inside a frame');
      }
    }
  }

  private async pull(): Promise<boolean> {
    const { done, value } = await this.source.next();
    if (done === true) {
      this.ended = true;
      return false;
    }
    this.buffer.append(value);
    return true;
  }

  private parseLength(maxSize: number): [number, number] | undefined {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < Math.min(this.buffer.byteLength, MAX_LENGTH_PREFIX); i++) {
      const b = this.buffer.get(i);
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw new MalformedMessageError('non-minimal frame length');
        if (value > maxSize)
          throw new MessageTooLargeError(`frame of ${value} bytes exceeds ${maxSize}`);
        return [value, i + 1];
      }
      if (value > maxSize) throw new MessageTooLargeError(`frame exceeds ${maxSize} bytes`);
    }
    if (this.buffer.byteLength >= MAX_LENGTH_PREFIX)
      throw new MalformedMessageError('frame length too long');
    return undefined;
  }
}

/** Send one frame, waiting for the stream to drain when its buffer is full. */
export async function _writeFrame(
  stream: Stream,
  payload: Uint8Array,
  options: AbortOptions = {},
): Promise<void> {
  if (!stream.send(_encodeFrame(payload))) await stream.onDrain(options);
}

/**
 * Run `fn` on `stream` under `signal`: when the signal fires the stream is aborted (which ends
 * any pending read or drain), and any error aborts the stream before it is rethrown.
 */
export async function _withStream<T>(
  stream: Stream,
  signal: AbortSignal,
  fn: () => Promise<T>,
): Promise<T> {
  const onAbort = (): void => {
    stream.abort(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  };
  if (signal.aborted) onAbort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await fn();
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    if (signal.aborted && signal.reason instanceof Error) throw signal.reason;
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
