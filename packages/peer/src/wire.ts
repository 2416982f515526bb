/**
 * The canonical binary encoding of the shard protocols' messages (schemas in README.md).
 * Fields appear in a fixed order: `uint` is an unsigned LEB128 varint (minimal, <= 2^53 - 1),
 * `bytes` and `string` (UTF-8) are a uint length then the bytes. A decoder rejects trailing bytes,
 * non-minimal varints and over-long fields, so every message has exactly one encoding.
 * Responses start with a status byte: 0 ok (or accepted), 1 receipt (put only), 2 error.
 */
import { ERROR_CODES } from './errors.ts';
import { MalformedMessageError } from './errors.ts';
import { MAX_AUDIT_LEAVES, MAX_DEAL_SIZE } from './constants.ts';

const MAX_ERROR_MESSAGE = 256;
const MAX_PROOF = 64 * 32;
const MAX_PEER_ID = 128;
const MAX_SIGNATURE = 128;
const MAX_LEAF = 4096;

export class _Writer {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  byte(b: number): this {
    return this.push(Uint8Array.of(b));
  }

  uint(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`not a uint: ${n}`);
    const out: number[] = [];
    do {
      const low = n % 128;
      n = Math.floor(n / 128);
      out.push(n === 0 ? low : low | 0x80);
    } while (n !== 0);
    return this.push(Uint8Array.from(out));
  }

  bytes(b: Uint8Array): this {
    return this.uint(b.byteLength).push(b);
  }

  string(s: string): this {
    return this.bytes(new TextEncoder().encode(s));
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.byteLength;
    }
    return out;
  }

  private push(b: Uint8Array): this {
    this.parts.push(b);
    this.length += b.byteLength;
    return this;
  }
}

export class _Reader {
  private pos = 0;
  private readonly buf: Uint8Array;
  constructor(buf: Uint8Array) {
    this.buf = buf;
  }

  byte(): number {
    if (this.pos >= this.buf.byteLength) throw new MalformedMessageError('message ends early');
    return this.buf[this.pos++]!;
  }

  uint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      const b = this.byte();
      if (i === 7 && b > 0x0f) throw new MalformedMessageError('varint too large');
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw new MalformedMessageError('non-minimal varint');
        return value;
      }
    }
  }

  bytes(max: number, exact?: number): Uint8Array {
    const n = this.uint();
    if (n > max) throw new MalformedMessageError(`field of ${n} bytes exceeds ${max}`);
    if (exact !== undefined && n !== exact)
      throw new MalformedMessageError(`field must be ${exact} bytes, got ${n}`);
    if (this.pos + n > this.buf.byteLength) throw new MalformedMessageError('message ends early');
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(maxBytes: number): string {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.bytes(maxBytes));
    } catch (err) {
      if (err instanceof MalformedMessageError) throw err;
      throw new MalformedMessageError('invalid UTF-8');
    }
  }

  end(): void {
    if (this.pos !== this.buf.byteLength) throw new MalformedMessageError('trailing bytes');
  }
}

export interface WireError {
  code: number;
  message: string;
}

function writeError(w: _Writer, e: WireError): Uint8Array {
  return w.byte(2).uint(e.code).string(e.message.slice(0, MAX_ERROR_MESSAGE)).finish();
}

function readError(r: _Reader): WireError {
  const code = r.uint();
  const message = r.string(MAX_ERROR_MESSAGE * 4);
  r.end();
  return { code, message };
}

export function _errorFrame(code: keyof typeof ERROR_CODES, message: string): WireError {
  return { code: ERROR_CODES[code], message };
}

// ---- put ----

export interface PutRequest {
  root: Uint8Array;
  size: number;
  leafSize: number;
  deal: Uint8Array;
}

export function encodePutRequest(m: PutRequest): Uint8Array {
  return new _Writer().bytes(m.root).uint(m.size).uint(m.leafSize).bytes(m.deal).finish();
}

export function decodePutRequest(b: Uint8Array): PutRequest {
  const r = new _Reader(b);
  const m = {
    root: r.bytes(32, 32),
    size: r.uint(),
    leafSize: r.uint(),
    deal: r.bytes(MAX_DEAL_SIZE),
  };
  r.end();
  return m;
}

export interface SignedReceipt {
  /** The encoded ReceiptBody (what was signed, after the domain). */
  body: Uint8Array;
  signature: Uint8Array;
}

/** A receipt to keep or forward: length-prefixed body, then length-prefixed signature. */
export function encodeSignedReceipt(m: SignedReceipt): Uint8Array {
  return new _Writer().bytes(m.body).bytes(m.signature).finish();
}

export function decodeSignedReceipt(b: Uint8Array): SignedReceipt {
  const r = new _Reader(b);
  const receipt = { body: r.bytes(1024), signature: r.bytes(MAX_SIGNATURE) };
  r.end();
  return receipt;
}

export type PutResponse =
  | { type: 'accepted' }
  | { type: 'receipt'; receipt: SignedReceipt }
  | { type: 'error'; error: WireError };

export function encodePutResponse(m: PutResponse): Uint8Array {
  const w = new _Writer();
  if (m.type === 'accepted') return w.byte(0).finish();
  if (m.type === 'receipt')
    return w.byte(1).bytes(m.receipt.body).bytes(m.receipt.signature).finish();
  return writeError(w, m.error);
}

export function decodePutResponse(b: Uint8Array): PutResponse {
  const r = new _Reader(b);
  const status = r.byte();
  if (status === 2) return { type: 'error', error: readError(r) };
  if (status === 0) {
    r.end();
    return { type: 'accepted' };
  }
  if (status !== 1) throw new MalformedMessageError(`unknown status ${status}`);
  const receipt = { body: r.bytes(1024), signature: r.bytes(MAX_SIGNATURE) };
  r.end();
  return { type: 'receipt', receipt };
}

export interface ReceiptBody {
  root: Uint8Array;
  size: number;
  leafSize: number;
  /** The host's peer id (base58 text). */
  host: string;
  /** Milliseconds since the epoch, host clock. */
  timestamp: number;
  /** SHA-256 of the deal bytes; empty when the put carried none. */
  dealHash: Uint8Array;
}

export function encodeReceiptBody(m: ReceiptBody): Uint8Array {
  return new _Writer()
    .byte(1)
    .bytes(m.root)
    .uint(m.size)
    .uint(m.leafSize)
    .string(m.host)
    .uint(m.timestamp)
    .bytes(m.dealHash)
    .finish();
}

export function decodeReceiptBody(b: Uint8Array): ReceiptBody {
  const r = new _Reader(b);
  const version = r.byte();
  if (version !== 1) throw new MalformedMessageError(`unknown receipt version ${version}`);
  const m = {
    root: r.bytes(32, 32),
    size: r.uint(),
    leafSize: r.uint(),
    host: r.string(MAX_PEER_ID),
    timestamp: r.uint(),
    dealHash: r.bytes(32),
  };
  r.end();
  return m;
}

// ---- get ----

export interface GetRequest {
  root: Uint8Array;
  offset: number;
  length: number;
  /** Present for a piece request: the piece's subtree height; the answer carries its proof. */
  pieceHeight?: number;
}

export function encodeGetRequest(m: GetRequest): Uint8Array {
  const w = new _Writer().bytes(m.root).uint(m.offset).uint(m.length);
  return (m.pieceHeight === undefined ? w.byte(0) : w.byte(1).uint(m.pieceHeight)).finish();
}

export function decodeGetRequest(b: Uint8Array): GetRequest {
  const r = new _Reader(b);
  const m: GetRequest = { root: r.bytes(32, 32), offset: r.uint(), length: r.uint() };
  const flag = r.byte();
  if (flag === 1) m.pieceHeight = r.uint();
  else if (flag !== 0) throw new MalformedMessageError(`bad piece flag ${flag}`);
  r.end();
  return m;
}

export type GetResponse =
  | { type: 'ok'; length: number; shardSize: number; leafSize: number; proof: Uint8Array }
  | { type: 'error'; error: WireError };

export function encodeGetResponse(m: GetResponse): Uint8Array {
  const w = new _Writer();
  if (m.type === 'error') return writeError(w, m.error);
  return w.byte(0).uint(m.length).uint(m.shardSize).uint(m.leafSize).bytes(m.proof).finish();
}

export function decodeGetResponse(b: Uint8Array): GetResponse {
  const r = new _Reader(b);
  const status = r.byte();
  if (status === 2) return { type: 'error', error: readError(r) };
  if (status !== 0) throw new MalformedMessageError(`unknown status ${status}`);
  const m = {
    type: 'ok' as const,
    length: r.uint(),
    shardSize: r.uint(),
    leafSize: r.uint(),
    proof: r.bytes(MAX_PROOF),
  };
  r.end();
  return m;
}

// ---- audit ----

export interface AuditRequest {
  root: Uint8Array;
  nonce: Uint8Array;
  indices: number[];
}

export function encodeAuditRequest(m: AuditRequest): Uint8Array {
  const w = new _Writer().bytes(m.root).bytes(m.nonce).uint(m.indices.length);
  for (const i of m.indices) w.uint(i);
  return w.finish();
}

export function decodeAuditRequest(b: Uint8Array): AuditRequest {
  const r = new _Reader(b);
  const root = r.bytes(32, 32);
  const nonce = r.bytes(32, 32);
  const count = r.uint();
  if (count < 1 || count > MAX_AUDIT_LEAVES)
    throw new MalformedMessageError(
      `an audit asks for 1..${MAX_AUDIT_LEAVES} leaves, got ${count}`,
    );
  const indices = Array.from({ length: count }, () => r.uint());
  r.end();
  return { root, nonce, indices };
}

export type AuditResponse =
  | { type: 'ok'; leaves: Uint8Array[]; proofs: Uint8Array[]; signature: Uint8Array }
  | { type: 'error'; error: WireError };

export function encodeAuditResponse(m: AuditResponse): Uint8Array {
  const w = new _Writer();
  if (m.type === 'error') return writeError(w, m.error);
  w.byte(0).uint(m.leaves.length);
  m.leaves.forEach((leaf, i) => w.bytes(leaf).bytes(m.proofs[i]!));
  return w.bytes(m.signature).finish();
}

export function decodeAuditResponse(b: Uint8Array): AuditResponse {
  const r = new _Reader(b);
  const status = r.byte();
  if (status === 2) return { type: 'error', error: readError(r) };
  if (status !== 0) throw new MalformedMessageError(`unknown status ${status}`);
  const count = r.uint();
  if (count > MAX_AUDIT_LEAVES) throw new MalformedMessageError(`too many leaves: ${count}`);
  const leaves: Uint8Array[] = [];
  const proofs: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    leaves.push(r.bytes(MAX_LEAF));
    proofs.push(r.bytes(MAX_PROOF));
  }
  const signature = r.bytes(MAX_SIGNATURE);
  r.end();
  return { type: 'ok', leaves, proofs, signature };
}

// ---- quote ----

export type QuoteResponse = { type: 'ok'; quote: Uint8Array } | { type: 'error'; error: WireError };

export function encodeQuoteResponse(m: QuoteResponse): Uint8Array {
  const w = new _Writer();
  if (m.type === 'error') return writeError(w, m.error);
  return w.byte(0).bytes(m.quote).finish();
}

export function decodeQuoteResponse(b: Uint8Array, maxQuote: number): QuoteResponse {
  const r = new _Reader(b);
  const status = r.byte();
  if (status === 2) return { type: 'error', error: readError(r) };
  if (status !== 0) throw new MalformedMessageError(`unknown status ${status}`);
  const quote = r.bytes(maxQuote);
  r.end();
  return { type: 'ok', quote };
}
