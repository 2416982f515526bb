/**
 * Optional protection for a share link: an expiry date and a password that wraps the file key.
 *
 * plain link      /s#<fragment>                      (the codec's share link: ref + file key)
 * with options    /s#w1.<base64url(envelope)>
 * envelope        = 0x00 || u64be(expiresAt ms, 0 = none) || fragment (UTF-8)          no password
 *                 = 0x01 || salt(16) || nonce(12) || AES-256-GCM(key, u64be(expiresAt) || fragment)
 *                   key = PBKDF2-HMAC-SHA256(password, salt, 600 000 iterations), AD = 0x01 || salt
 *
 * The password is never in the link: without it the fragment (and so the file key) cannot be
 * read. The expiry is advisory: the share page refuses an expired link, but someone who already
 * has the file, or the unwrapped key, keeps it; to really end access, delete the file (its deals
 * end and hosts stop being paid to keep it).
 */
import { fromBase64Url, toBase64Url } from '@cairn/codec';

export const WRAPPED_PREFIX = 'w1.';
export const PBKDF2_ITERATIONS = 600_000;

export class LinkExpiredError extends Error {
  override name = 'LinkExpiredError' as const;
  readonly expiredAt: number;
  constructor(expiredAt: number) {
    super(`this link expired on ${new Date(expiredAt).toISOString()}`);
    this.expiredAt = expiredAt;
  }
}

export class WrongPasswordError extends Error {
  override name = 'WrongPasswordError' as const;
}

export function isWrapped(fragment: string): boolean {
  return fragment.startsWith(WRAPPED_PREFIX);
}

/** True when the wrapped link needs a password to open. */
export function needsPassword(fragment: string): boolean {
  return isWrapped(fragment) && fromBase64Url(fragment.slice(WRAPPED_PREFIX.length))[0] === 1;
}

async function passwordKey(password: string, salt: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(password.normalize('NFC')),
    'PBKDF2',
    false,
    ['deriveKey'],
  );
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations: PBKDF2_ITERATIONS },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

function body(expiresAt: number, fragment: string): Uint8Array<ArrayBuffer> {
  const text = new TextEncoder().encode(fragment);
  const out = new Uint8Array(8 + text.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(expiresAt));
  out.set(text, 8);
  return out;
}

function unbody(bytes: Uint8Array): { expiresAt: number; fragment: string } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    expiresAt: Number(view.getBigUint64(0)),
    fragment: new TextDecoder().decode(bytes.subarray(8)),
  };
}

/** Wraps a share link's fragment with an expiry and/or a password. */
export async function wrapFragment(
  fragment: string,
  options: { password?: string; expiresAt?: number },
): Promise<string> {
  const expiresAt = options.expiresAt ?? 0;
  if (!options.password) {
    const plain = body(expiresAt, fragment);
    const out = new Uint8Array(1 + plain.length);
    out.set(plain, 1);
    return WRAPPED_PREFIX + toBase64Url(out);
  }
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const nonce = crypto.getRandomValues(new Uint8Array(12));
  const ad = new Uint8Array([1, ...salt]);
  const key = await passwordKey(options.password, salt);
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: nonce, additionalData: ad },
      key,
      body(expiresAt, fragment),
    ),
  );
  const out = new Uint8Array(1 + 16 + 12 + sealed.length);
  out[0] = 1;
  out.set(salt, 1);
  out.set(nonce, 17);
  out.set(sealed, 29);
  return WRAPPED_PREFIX + toBase64Url(out);
}

/**
 * The plain fragment inside a wrapped one: WrongPasswordError for a missing or wrong password,
 * LinkExpiredError past the expiry (`now` for tests).
 */
export async function unwrapFragment(
  wrapped: string,
  password?: string,
  now: number = Date.now(),
): Promise<string> {
  if (!isWrapped(wrapped)) return wrapped;
  const bytes = fromBase64Url(wrapped.slice(WRAPPED_PREFIX.length));
  let inner: { expiresAt: number; fragment: string };
  if (bytes[0] === 0) inner = unbody(bytes.subarray(1));
  else if (bytes[0] === 1) {
    if (!password) throw new WrongPasswordError('this link needs a password');
    const salt = bytes.slice(1, 17);
    const ad = new Uint8Array([1, ...salt]);
    try {
      const key = await passwordKey(password, salt);
      inner = unbody(
        new Uint8Array(
          await crypto.subtle.decrypt(
            { name: 'AES-GCM', iv: bytes.slice(17, 29), additionalData: ad },
            key,
            bytes.slice(29),
          ),
        ),
      );
    } catch {
      throw new WrongPasswordError('the password is not right');
    }
  } else throw new TypeError('unknown share link envelope');
  if (inner.expiresAt !== 0 && now > inner.expiresAt) throw new LinkExpiredError(inner.expiresAt);
  return inner.fragment;
}
