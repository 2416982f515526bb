/**
 * Receipts and audit answers are signed with the host's libp2p key, so anyone holding the host's
 * peer id (which embeds its Ed25519 public key) can check them later without the host.
 * Signed bytes: a domain string (UTF-8), then the fields (see README).
 */
import type { PeerId, PrivateKey } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { AUDIT_DOMAIN, RECEIPT_DOMAIN } from './constants.ts';
import { InvalidReceiptError, MalformedMessageError } from './errors.ts';
import { decodeReceiptBody, encodeReceiptBody } from './wire.ts';
import type { ReceiptBody, SignedReceipt } from './wire.ts';

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

export async function _sha256(...parts: Uint8Array[]): Promise<Uint8Array> {
  const data = concat(...parts);
  return new Uint8Array(
    await globalThis.crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>),
  );
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export async function signReceipt(key: PrivateKey, body: ReceiptBody): Promise<SignedReceipt> {
  const encoded = encodeReceiptBody(body);
  const signature = await key.sign(concat(utf8(RECEIPT_DOMAIN), encoded));
  return { body: encoded, signature };
}

/** A verified receipt: the host's statement that it committed the shard. */
export interface Receipt extends ReceiptBody {
  /** The wire form (body and signature), to keep or forward. */
  signed: SignedReceipt;
}

/**
 * Decodes a receipt and checks its signature against the key in its host peer id; with
 * `expect`, also that it is for that host, root and size. InvalidReceiptError otherwise.
 */
export async function verifyReceipt(
  signed: SignedReceipt,
  expect: { host?: PeerId | string; root?: Uint8Array; size?: number } = {},
): Promise<Receipt> {
  let body: ReceiptBody;
  try {
    body = decodeReceiptBody(signed.body);
  } catch (err) {
    throw new InvalidReceiptError('receipt body is malformed', { cause: err });
  }
  const peerId = peerIdFromString(body.host);
  if (peerId.publicKey === undefined) throw new InvalidReceiptError('host peer id has no key');
  const ok = await peerId.publicKey.verify(
    concat(utf8(RECEIPT_DOMAIN), signed.body),
    signed.signature,
  );
  if (!ok) throw new InvalidReceiptError('receipt signature does not verify');
  if (expect.host !== undefined && body.host !== expect.host.toString())
    throw new InvalidReceiptError(`receipt names host ${body.host}`);
  if (expect.root !== undefined && !equal(expect.root, body.root))
    throw new InvalidReceiptError('receipt is for another root');
  if (expect.size !== undefined && expect.size !== body.size)
    throw new InvalidReceiptError(`receipt is for ${body.size} bytes`);
  return { ...body, signed };
}

/** The bytes an audit answer's signature covers. */
export async function _auditMessage(
  root: Uint8Array,
  nonce: Uint8Array,
  leaves: readonly Uint8Array[],
): Promise<Uint8Array> {
  if (nonce.byteLength !== 32) throw new MalformedMessageError('nonce must be 32 bytes');
  return concat(utf8(AUDIT_DOMAIN), root, nonce, await _sha256(nonce, ...leaves));
}

export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function _toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function _fromHex(s: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/i.test(s)) throw new TypeError('not a hex string');
  return Uint8Array.from(s.match(/../g) ?? [], (h) => parseInt(h, 16));
}
