import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes, toHex } from '../src/bytes.ts';
import {
  MAX_MANIFEST_REF_SIZE,
  decodeShareLink,
  encodeShareLink,
  fromBase64Url,
  toBase64Url,
} from '../src/crypto/index.ts';

function failure(input: string): { name: string; message: string } {
  try {
    decodeShareLink(input);
  } catch (err) {
    return { name: (err as Error).name, message: (err as Error).message };
  }
  return { name: 'no error', message: '' };
}

/** A payload with a correct checksum, so the test reaches the check after it. */
function withChecksum(body: Uint8Array): string {
  return toBase64Url(concatBytes(body, sha256(body).subarray(0, 4)));
}

describe('base64url', () => {
  test('RFC 4648 vectors (url alphabet, no padding)', () => {
    const vectors: Array<[string, string]> = [
      ['', ''],
      ['f', 'Zg'],
      ['fo', 'Zm8'],
      ['foo', 'Zm9v'],
      ['foob', 'Zm9vYg'],
      ['fooba', 'Zm9vYmE'],
      ['foobar', 'Zm9vYmFy'],
    ];
    for (const [plain, encoded] of vectors) {
      const bytes = new TextEncoder().encode(plain);
      expect(toBase64Url(bytes)).toBe(encoded);
      expect(toHex(fromBase64Url(encoded))).toBe(toHex(bytes));
    }
    expect(toBase64Url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
  });

  test('round trip (property) and strictness', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = toBase64Url(bytes);
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(toHex(fromBase64Url(text))).toBe(toHex(bytes));
      }),
    );
    // padding, standard alphabet, whitespace, impossible length, non-zero unused bits, non-ASCII
    for (const bad of ['Zg==', 'Zm+v', 'Zm/v', 'Zm9 v', 'Z', 'Zh', 'Zm9vZ', 'Zm8é']) {
      expect(() => fromBase64Url(bad), bad).toThrow(SyntaxError);
    }
  });
});

describe('share links', () => {
  const link = { manifestRef: randomBytes(34), fileKey: randomBytes(32) };

  test('round trip (property)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: MAX_MANIFEST_REF_SIZE }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (manifestRef, fileKey) => {
          const fragment = encodeShareLink({ manifestRef, fileKey });
          expect(fragment).toMatch(/^[A-Za-z0-9_-]+$/);
          const decoded = decodeShareLink(fragment);
          expect(toHex(decoded.manifestRef)).toBe(toHex(manifestRef));
          expect(toHex(decoded.fileKey)).toBe(toHex(fileKey));
        },
      ),
    );
  });

  test('compact: a 34-byte ref and a key fit in 100 characters', () => {
    expect(encodeShareLink(link).length).toBeLessThanOrEqual(100);
  });

  test('accepts a bare fragment, "#fragment", a whole URL, and surrounding whitespace', () => {
    const fragment = encodeShareLink(link);
    for (const input of [
      fragment,
      `#${fragment}`,
      `https://cairn.example/s/#${fragment}`,
      `http://localhost:5173/share?x=1#${fragment}`,
      `  ${fragment}\n`,
    ]) {
      const decoded = decodeShareLink(input);
      expect(toHex(decoded.fileKey)).toBe(toHex(link.fileKey));
      expect(toHex(decoded.manifestRef)).toBe(toHex(link.manifestRef));
    }
  });

  test('every single-character typo is caught', () => {
    const fragment = encodeShareLink(link);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < fragment.length; i++) {
      for (const c of [
        alphabet[(alphabet.indexOf(fragment[i]!) + 1) % 64]!,
        alphabet[(alphabet.indexOf(fragment[i]!) + 17) % 64]!,
      ]) {
        const typo = fragment.slice(0, i) + c + fragment.slice(i + 1);
        expect(failure(typo).name, typo).toBe('InvalidShareLinkError');
      }
    }
  });

  test('every truncation is caught', () => {
    const fragment = encodeShareLink(link);
    for (let length = 0; length < fragment.length; length++) {
      expect(failure(fragment.slice(0, length)).name).toBe('InvalidShareLinkError');
    }
  });

  const body = (version: number, refLength: Uint8Array, ref: Uint8Array, key: Uint8Array) =>
    concatBytes(new Uint8Array([version]), refLength, ref, key);
  const ref = randomBytes(34);
  const key = randomBytes(32);
  const cases: Array<[string, string, RegExp]> = [
    ['empty', '', /empty/],
    ['only "#"', '#', /empty/],
    ['URL without fragment', 'https://cairn.example/s/abc', /no #fragment/],
    ['bad base64 character', `${encodeShareLink(link).slice(0, -1)}*`, /not base64url/],
    ['base64 padding', `${encodeShareLink(link)}=`, /not base64url/],
    ['standard base64 alphabet', `+/${encodeShareLink(link)}`, /not base64url/],
    [
      'checksum mismatch',
      (() => {
        const f = encodeShareLink(link);
        return (f[0] === 'A' ? 'B' : 'A') + f.slice(1);
      })(),
      /checksum/,
    ],
    ['too short', 'AAAA', /too short/],
    ['too long', 'A'.repeat(2000), /too long/],
    ['unknown version 0', withChecksum(body(0, new Uint8Array([34]), ref, key)), /version 0/],
    ['unknown version 2', withChecksum(body(2, new Uint8Array([34]), ref, key)), /version 2/],
    [
      'key of 31 bytes',
      withChecksum(body(1, new Uint8Array([34]), ref, key.subarray(1))),
      /file key is 31 bytes/,
    ],
    [
      'key of 16 bytes',
      withChecksum(body(1, new Uint8Array([34]), ref, key.subarray(16))),
      /file key is 16 bytes/,
    ],
    [
      'trailing bytes',
      withChecksum(body(1, new Uint8Array([34]), ref, concatBytes(key, new Uint8Array([0])))),
      /1 trailing bytes/,
    ],
    [
      'empty ref',
      withChecksum(body(1, new Uint8Array([0]), new Uint8Array(0), key)),
      /ref length 0/,
    ],
    [
      'oversized ref',
      withChecksum(body(1, new Uint8Array([0x81, 0x04]), new Uint8Array(513), key)),
      /ref length 513/,
    ],
    [
      'non-minimal ref length',
      withChecksum(body(1, new Uint8Array([0xa2, 0x00]), ref, key)),
      /non-minimal/,
    ],
    [
      'ref length past the end',
      withChecksum(body(1, new Uint8Array([0x80]), new Uint8Array(0), new Uint8Array(0))),
      /truncated|too short/,
    ],
  ];
  test.each(cases)('%s is rejected with InvalidShareLinkError', (_label, input, message) => {
    const { name, message: actual } = failure(input);
    expect(name).toBe('InvalidShareLinkError');
    expect(actual).toMatch(message);
  });

  test('bad arguments to the encoder', () => {
    expect(() => encodeShareLink({ manifestRef: new Uint8Array(0), fileKey: key })).toThrow(
      RangeError,
    );
    expect(() => encodeShareLink({ manifestRef: new Uint8Array(513), fileKey: key })).toThrow(
      RangeError,
    );
    expect(() => encodeShareLink({ manifestRef: ref, fileKey: new Uint8Array(31) })).toThrow(
      RangeError,
    );
  });
});
