/**
 * The byte-level pieces of Cairn's canonical binary encodings: minimal unsigned LEB128 varints,
 * fixed-length byte strings and length-prefixed UTF-8. Canonical means one value has exactly one
 * encoding, so the reader rejects anything a writer would not have produced (non-minimal varints,
 * invalid UTF-8, trailing bytes).
 */
import { utf8 } from '../bytes.ts';
import { MalformedError } from '../errors.ts';

/** A varint never needs more than 8 bytes for a safe integer (7 * 8 = 56 bits >= 53). */
const MAX_VARINT_BYTES = 8;

/** Bytes taken by `value` as a minimal unsigned LEB128 varint. */
export function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    n++;
  }
  return n;
}

/** True for a string with no lone UTF-16 surrogate (only those survive a UTF-8 round trip). */
export function isWellFormedString(s: string): boolean {
  return !/\p{Surrogate}/u.test(s);
}

export class ByteWriter {
  #chunks: Uint8Array[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  u8(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xff)
      throw new RangeError(`u8: bad value ${value}`);
    return this.bytes(new Uint8Array([value]));
  }

  /** Unsigned LEB128, minimal, for any non-negative safe integer. */
  varint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`varint: value must be a non-negative safe integer, got ${value}`);
    }
    const out = new Uint8Array(varintLength(value));
    for (let i = 0; i < out.length; i++) {
      const low = value % 0x80;
      value = Math.floor(value / 0x80);
      out[i] = i < out.length - 1 ? low | 0x80 : low;
    }
    return this.bytes(out);
  }

  /** Raw bytes with no length prefix (for fixed-length fields). */
  bytes(value: Uint8Array): this {
    this.#chunks.push(value.slice());
    this.#length += value.length;
    return this;
  }

  /** varint(length) || bytes. */
  lengthPrefixed(value: Uint8Array): this {
    return this.varint(value.length).bytes(value);
  }

  /** varint(length) || UTF-8. */
  string(value: string): this {
    if (!isWellFormedString(value))
      throw new RangeError('string: contains a lone UTF-16 surrogate');
    return this.lengthPrefixed(utf8.encode(value));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.#length);
    let offset = 0;
    for (const c of this.#chunks) {
      out.set(c, offset);
      offset += c.length;
    }
    return out;
  }
}

/** Reads canonical encodings; every failure is a MalformedError naming the field being read. */
export class ByteReader {
  readonly #bytes: Uint8Array;
  #offset = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#bytes.length - this.#offset;
  }

  u8(field: string): number {
    if (this.remaining < 1)
      throw new MalformedError(`${field}: unexpected end of input at byte ${this.#offset}`);
    return this.#bytes[this.#offset++]!;
  }

  /** A minimal unsigned LEB128 varint no larger than `max` (at most Number.MAX_SAFE_INTEGER). */
  varint(field: string, max: number = Number.MAX_SAFE_INTEGER): number {
    const start = this.#offset;
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i >= MAX_VARINT_BYTES)
        throw new MalformedError(`${field}: varint longer than ${MAX_VARINT_BYTES} bytes`);
      const byte = this.u8(field);
      value += (byte & 0x7f) * scale;
      scale *= 0x80;
      if ((byte & 0x80) === 0) {
        if (byte === 0 && i > 0)
          throw new MalformedError(`${field}: non-minimal varint at byte ${start}`);
        break;
      }
    }
    if (!Number.isSafeInteger(value)) throw new MalformedError(`${field}: varint exceeds 2^53 - 1`);
    if (value > max) throw new MalformedError(`${field}: ${value} exceeds the maximum ${max}`);
    return value;
  }

  /** Exactly `length` raw bytes (a copy). */
  bytes(field: string, length: number): Uint8Array {
    if (this.remaining < length) {
      throw new MalformedError(
        `${field}: needs ${length} bytes, ${this.remaining} left at byte ${this.#offset}`,
      );
    }
    const out = this.#bytes.slice(this.#offset, this.#offset + length);
    this.#offset += length;
    return out;
  }

  /** varint(length) || bytes, with the length capped at `maxLength`. */
  lengthPrefixed(field: string, maxLength: number): Uint8Array {
    const length = this.varint(`${field} length`, maxLength);
    return this.bytes(field, length);
  }

  /** varint(length) || strict UTF-8, with the byte length capped at `maxLength`. */
  string(field: string, maxLength: number): string {
    const raw = this.lengthPrefixed(field, maxLength);
    try {
      return utf8.decode(raw);
    } catch (cause) {
      throw new MalformedError(`${field}: invalid UTF-8`, { cause });
    }
  }

  /** Throws unless every byte has been read. */
  end(what: string): void {
    if (this.remaining !== 0) throw new MalformedError(`${what}: ${this.remaining} trailing bytes`);
  }
}
