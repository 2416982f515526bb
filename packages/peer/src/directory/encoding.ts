import { MalformedMessageError, MessageTooLargeError } from './errors.ts';

// A small canonical binary encoding: unsigned LEB128 varints (minimal form only), length-prefixed
// byte strings and UTF-8 text, fields in a fixed order. Unlike protobuf, every value has exactly
// one encoding and the reader rejects trailing bytes, so a record that decodes re-encodes to the
// very bytes that were signed.

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export class _Writer {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  bytes(value: Uint8Array): this {
    this.uint(value.byteLength);
    return this.raw(value);
  }

  raw(value: Uint8Array): this {
    this.chunks.push(value);
    this.length += value.byteLength;
    return this;
  }

  byte(value: number): this {
    return this.raw(Uint8Array.of(value & 0xff));
  }

  string(value: string): this {
    return this.bytes(utf8Encoder.encode(value));
  }

  uint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`varint value must be a non-negative safe integer, got ${value}`);
    }
    return this.bigUint(BigInt(value));
  }

  bigUint(value: bigint): this {
    if (value < 0n) throw new RangeError('varint value must be non-negative');
    const out: number[] = [];
    let v = value;
    do {
      const low = Number(v & 0x7fn);
      v >>= 7n;
      out.push(v === 0n ? low : low | 0x80);
    } while (v !== 0n);
    return this.raw(Uint8Array.from(out));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }
}

export class _Reader {
  private offset = 0;
  private readonly buf: Uint8Array;

  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  get remaining(): number {
    return this.buf.byteLength - this.offset;
  }

  byte(): number {
    if (this.remaining < 1) throw new MalformedMessageError('unexpected end of message');
    return this.buf[this.offset++]!;
  }

  raw(length: number): Uint8Array {
    if (this.remaining < length) throw new MalformedMessageError('unexpected end of message');
    const out = this.buf.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  bytes(maxLength: number): Uint8Array {
    const length = this.uint();
    if (length > maxLength) {
      throw new MessageTooLargeError(`field of ${length} bytes exceeds ${maxLength}`);
    }
    return this.raw(length);
  }

  string(maxLength: number): string {
    try {
      return utf8Decoder.decode(this.bytes(maxLength));
    } catch (err) {
      if (err instanceof TypeError) throw new MalformedMessageError('invalid UTF-8 text');
      throw err;
    }
  }

  /** A varint of at most `maxBits` bits, in minimal form. */
  bigUint(maxBits = 256): bigint {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      value |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if ((b & 0x80) === 0) {
        if (b === 0 && shift > 7n) throw new MalformedMessageError('non-minimal varint');
        break;
      }
      if (shift >= BigInt(maxBits + 7)) throw new MalformedMessageError('varint too long');
    }
    if (value >> BigInt(maxBits) !== 0n) throw new MalformedMessageError('varint out of range');
    return value;
  }

  uint(): number {
    const value = this.bigUint(53);
    if (value > MAX_SAFE) throw new MalformedMessageError('varint out of range');
    return Number(value);
  }

  end(): void {
    if (this.remaining !== 0) throw new MalformedMessageError(`${this.remaining} trailing bytes`);
  }
}
