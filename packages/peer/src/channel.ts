/**
 * One side of a protocol stream: length-prefixed frames (unsigned varint length, then the body)
 * and raw byte runs, with a deadline on every wait. The announced length of a frame is checked
 * against the caller's limit before its body is buffered; a read or a drain that sees nothing for
 * `idleMs` fails with TimeoutError; the operation's signal aborts everything. On any failure the
 * stream is aborted, so the remote sees a reset instead of waiting.
 */
import type { AbortOptions, Stream } from '@libp2p/interface';
import { Uint8ArrayList } from 'uint8arraylist';
import {
  AbortError,
  MalformedMessageError,
  MessageTooLargeError,
  TimeoutError,
  UnexpectedEndOfStreamError,
} from './errors.ts';

const MAX_LENGTH_PREFIX = 8;

export function _encodeFrame(payload: Uint8Array): Uint8Array {
  const prefix: number[] = [];
  let n = payload.byteLength;
  do {
    const low = n % 128;
    n = Math.floor(n / 128);
    prefix.push(n === 0 ? low : low | 0x80);
  } while (n !== 0);
  const out = new Uint8Array(prefix.length + payload.byteLength);
  out.set(prefix, 0);
  out.set(payload, prefix.length);
  return out;
}

/** The error for an aborted signal: TimeoutError for a timeout, AbortError otherwise. */
export function _abortReason(signal: AbortSignal, what: string): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && (reason.name === 'TimeoutError' || reason.name === 'AbortError')) {
    return reason.name === 'TimeoutError'
      ? new TimeoutError(`${what} timed out`, { cause: reason })
      : new AbortError(`${what} aborted`, { cause: reason });
  }
  if (reason instanceof Error) return reason;
  return new AbortError(`${what} aborted`);
}

/** The caller's signal, or a default timeout when none was given. */
export function _operationSignal(options: AbortOptions, defaultMs: number): AbortSignal {
  return options.signal ?? AbortSignal.timeout(defaultMs);
}

export class _Channel {
  readonly stream: Stream;
  private readonly signal: AbortSignal;
  private readonly idleMs: number;
  private readonly what: string;
  private readonly buffer = new Uint8ArrayList();
  private readonly source: AsyncIterator<Uint8Array | Uint8ArrayList>;
  private ended = false;
  /** Bytes read from the stream so far (frames and raw). */
  bytesIn = 0;
  /** Bytes handed to the stream so far. */
  bytesOut = 0;

  constructor(stream: Stream, signal: AbortSignal, idleMs: number, what: string) {
    this.stream = stream;
    this.signal = signal;
    this.idleMs = idleMs;
    this.what = what;
    this.source = stream[Symbol.asyncIterator]();
  }

  /** Throws the operation's error if its signal has fired. */
  check(): void {
    if (this.signal.aborted) throw _abortReason(this.signal, this.what);
  }

  /** The next frame's body; UnexpectedEndOfStreamError if the stream ends first. */
  async readFrame(maxSize: number): Promise<Uint8Array> {
    const frame = await this.readFrameOrEnd(maxSize);
    if (frame === undefined) throw new UnexpectedEndOfStreamError(`${this.what}: stream ended`);
    return frame;
  }

  /** The next frame's body, or undefined when the remote closed cleanly between frames. */
  async readFrameOrEnd(maxSize: number): Promise<Uint8Array | undefined> {
    let header: [number, number] | undefined;
    for (;;) {
      header ??= this.parseLength(maxSize);
      if (header !== undefined && this.buffer.byteLength >= header[1] + header[0]) {
        const [length, prefix] = header;
        const body = this.buffer.subarray(prefix, prefix + length);
        this.buffer.consume(prefix + length);
        return body;
      }
      if (!(await this.pull())) {
        if (this.buffer.byteLength === 0) return undefined;
        throw new UnexpectedEndOfStreamError(`${this.what}: stream ended inside a frame`);
      }
    }
  }

  /** Up to `max` raw bytes (what is buffered, else the next chunk); undefined at the end. */
  async readRaw(max: number): Promise<Uint8Array | undefined> {
    if (this.buffer.byteLength === 0 && !(await this.pull())) return undefined;
    const n = Math.min(max, this.buffer.byteLength);
    const out = this.buffer.subarray(0, n);
    this.buffer.consume(n);
    return out;
  }

  /** Resolves when the remote has closed its side; MalformedMessageError if more bytes come. */
  async readEnd(): Promise<void> {
    if (this.buffer.byteLength > 0 || (await this.pull()))
      throw new MalformedMessageError(`${this.what}: unexpected bytes after the message`);
  }

  async writeFrame(payload: Uint8Array): Promise<void> {
    await this.writeRaw(_encodeFrame(payload));
  }

  /** Sends bytes, waiting (bounded by the idle timeout) for the send buffer to drain. */
  async writeRaw(bytes: Uint8Array): Promise<void> {
    this.check();
    this.bytesOut += bytes.byteLength;
    if (this.stream.send(bytes)) return;
    const idle = AbortSignal.timeout(this.idleMs);
    try {
      await this.stream.onDrain({ signal: AbortSignal.any([this.signal, idle]) });
    } catch (err) {
      if (this.signal.aborted) throw _abortReason(this.signal, this.what);
      if (idle.aborted)
        throw new TimeoutError(`${this.what}: peer stopped reading for ${this.idleMs} ms`);
      throw err;
    }
  }

  /** Closes our sending side (the remote sees the end after the buffered bytes). */
  async closeWrite(): Promise<void> {
    const idle = AbortSignal.timeout(this.idleMs);
    await this.stream.close({ signal: AbortSignal.any([this.signal, idle]) });
  }

  /** Aborts the stream (idempotent); the remote sees a reset. */
  abort(err: Error): void {
    if (this.stream.status === 'open' || this.stream.status === 'closing') this.stream.abort(err);
  }

  private async pull(): Promise<boolean> {
    if (this.ended) return false;
    this.check();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new TimeoutError(`${this.what}: peer sent nothing for ${this.idleMs} ms`)),
        this.idleMs,
      );
      onAbort = () => reject(_abortReason(this.signal, this.what));
      this.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      const { done, value } = await Promise.race([this.source.next(), deadline]);
      if (done === true) {
        this.ended = true;
        return false;
      }
      this.buffer.append(value);
      this.bytesIn += value.byteLength;
      return true;
    } finally {
      // The caller aborts the stream on failure (after answering with an error if it can).
      clearTimeout(timer);
      this.signal.removeEventListener('abort', onAbort!);
    }
  }

  private parseLength(maxSize: number): [number, number] | undefined {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < Math.min(this.buffer.byteLength, MAX_LENGTH_PREFIX); i++) {
      const b = this.buffer.get(i);
      value += (b & 0x7f) * scale;
      scale *= 128;
      if (value > maxSize)
        throw new MessageTooLargeError(`${this.what}: frame exceeds ${maxSize} bytes`);
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw new MalformedMessageError(`${this.what}: non-minimal length`);
        return [value, i + 1];
      }
    }
    if (this.buffer.byteLength >= MAX_LENGTH_PREFIX)
      throw new MalformedMessageError(`${this.what}: frame length too long`);
    return undefined;
  }
}

/** Runs `fn` with a channel; aborts the stream on failure so the remote is not left waiting. */
export async function _withChannel<T>(
  stream: Stream,
  signal: AbortSignal,
  idleMs: number,
  what: string,
  fn: (ch: _Channel) => Promise<T>,
): Promise<T> {
  const ch = new _Channel(stream, signal, idleMs, what);
  try {
    return await fn(ch);
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    ch.abort(e);
    if (signal.aborted && !(e.name === 'TimeoutError' || e.name === 'AbortError'))
      throw _abortReason(signal, what);
    throw e;
  }
}
