import { describe, expect, test } from 'vitest';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes, fromHex, randomBytes, toHex, utf8 } from '../src/bytes.ts';
import {
  FILE_ID_SIZE,
  FILE_KEY_SIZE,
  HKDF_INFO,
  SegmentCipher,
  TAG_SIZE,
  decryptSegmentStream,
  deriveBytes,
  encryptSegmentStream,
  generateFileId,
  generateFileKey,
  importAesGcmKey,
} from '../src/crypto/index.ts';
import { errorOf } from './helpers.ts';

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('HKDF-SHA256', () => {
  test('RFC 5869 test case 1', async () => {
    const okm = await deriveBytes(
      fromHex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'),
      fromHex('000102030405060708090a0b0c'),
      fromHex('f0f1f2f3f4f5f6f7f8f9'),
      42,
    );
    expect(toHex(okm)).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  test('RFC 5869 test case 3 (empty salt and info)', async () => {
    const okm = await deriveBytes(
      fromHex('0b'.repeat(22)),
      new Uint8Array(0),
      new Uint8Array(0),
      42,
    );
    expect(toHex(okm)).toBe(
      '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
    );
  });

  test('matches @noble/hashes for every label, with and without salt', async () => {
    const ikm = randomBytes(32);
    const salt = randomBytes(16);
    for (const info of Object.values(HKDF_INFO)) {
      expect(toHex(await deriveBytes(ikm, salt, info, 32))).toBe(
        toHex(hkdf(sha256, ikm, salt, utf8.encode(info), 32)),
      );
      expect(toHex(await deriveBytes(ikm, undefined, info, 32))).toBe(
        toHex(hkdf(sha256, ikm, undefined, utf8.encode(info), 32)),
      );
    }
  });

  test('labels are distinct and bad lengths are rejected', async () => {
    expect(new Set(Object.values(HKDF_INFO)).size).toBe(Object.values(HKDF_INFO).length);
    await expect(deriveBytes(new Uint8Array(32), undefined, 'x', 0)).rejects.toThrow(RangeError);
    await expect(deriveBytes(new Uint8Array(32), undefined, 'x', 255 * 32 + 1)).rejects.toThrow(
      RangeError,
    );
    await expect(importAesGcmKey(new Uint8Array(16))).rejects.toThrow(RangeError);
  });
});

describe('STREAM segment cipher', () => {
  test('sizes and generators', () => {
    expect(generateFileKey().length).toBe(FILE_KEY_SIZE);
    expect(generateFileId().length).toBe(FILE_ID_SIZE);
    expect(toHex(generateFileKey())).not.toBe(toHex(generateFileKey()));
  });

  test('round trip of empty, small and multi-MiB segments', async () => {
    const cipher = await SegmentCipher.create(generateFileKey(), generateFileId());
    for (const [index, last, length] of [
      [0, true, 0],
      [0, false, 1],
      [7, false, 1000],
      [2 ** 40, true, 3 * 1024 * 1024 + 5],
    ] as const) {
      const plain = randomBytes(length);
      const sealed = await cipher.encrypt(index, last, plain);
      expect(sealed.length).toBe(length + TAG_SIZE);
      expect(equalBytes(await cipher.decrypt(index, last, sealed), plain)).toBe(true);
    }
  });

  test('accepts views into larger and shared buffers', async () => {
    const cipher = await SegmentCipher.create(generateFileKey(), generateFileId());
    const big = randomBytes(100);
    const view = big.subarray(10, 60);
    const sealed = await cipher.encrypt(3, false, view);
    const framed = new Uint8Array(sealed.length + 20);
    framed.set(sealed, 7);
    expect(toHex(await cipher.decrypt(3, false, framed.subarray(7, 7 + sealed.length)))).toBe(
      toHex(view),
    );
    if (typeof SharedArrayBuffer !== 'undefined') {
      const shared = new Uint8Array(new SharedArrayBuffer(sealed.length));
      shared.set(sealed);
      expect(toHex(await cipher.decrypt(3, false, shared))).toBe(toHex(view));
    }
  });

  test('the same key and file id give the same cipher; a segment is deterministic', async () => {
    const key = generateFileKey();
    const id = generateFileId();
    const a = await SegmentCipher.create(key, id);
    const b = await SegmentCipher.create(key, id);
    const plain = randomBytes(64);
    expect(toHex(await a.encrypt(1, false, plain))).toBe(toHex(await b.encrypt(1, false, plain)));
  });

  describe('tampering gives IntegrityError', async () => {
    const key = generateFileKey();
    const id = generateFileId();
    const cipher = await SegmentCipher.create(key, id);
    const plain = randomBytes(300);
    const sealed = await cipher.encrypt(5, false, plain);

    test('every flipped bit in ciphertext or tag', async () => {
      for (let bit = 0; bit < sealed.length * 8; bit += 7) {
        const bad = sealed.slice();
        bad[bit >> 3]! ^= 1 << (bit & 7);
        expect((await errorOf(cipher.decrypt(5, false, bad))).name).toBe('IntegrityError');
      }
      const tagFlip = sealed.slice();
      tagFlip[sealed.length - 1]! ^= 0x80;
      expect((await errorOf(cipher.decrypt(5, false, tagFlip))).name).toBe('IntegrityError');
    });

    test('decrypted at another index (reordering)', async () => {
      for (const index of [0, 4, 6, 2 ** 32 + 5]) {
        expect((await errorOf(cipher.decrypt(index, false, sealed))).name).toBe('IntegrityError');
      }
    });

    test('moved from another file (other fileId, same key)', async () => {
      const other = await SegmentCipher.create(key, generateFileId());
      expect((await errorOf(other.decrypt(5, false, sealed))).name).toBe('IntegrityError');
      const foreign = await other.encrypt(5, false, plain);
      expect((await errorOf(cipher.decrypt(5, false, foreign))).name).toBe('IntegrityError');
    });

    test('a non-last segment decrypted as last (truncation), and the reverse', async () => {
      expect((await errorOf(cipher.decrypt(5, true, sealed))).name).toBe('IntegrityError');
      const lastOne = await cipher.encrypt(6, true, plain);
      expect((await errorOf(cipher.decrypt(6, false, lastOne))).name).toBe('IntegrityError');
    });

    test('wrong key', async () => {
      const wrong = await SegmentCipher.create(generateFileKey(), id);
      expect((await errorOf(wrong.decrypt(5, false, sealed))).name).toBe('IntegrityError');
    });

    test('too short, truncated or extended ciphertext', async () => {
      for (const bad of [
        new Uint8Array(0),
        sealed.subarray(0, TAG_SIZE - 1),
        sealed.subarray(0, sealed.length - 1),
      ]) {
        expect((await errorOf(cipher.decrypt(5, false, bad))).name).toBe('IntegrityError');
      }
      const longer = new Uint8Array(sealed.length + 1);
      longer.set(sealed);
      expect((await errorOf(cipher.decrypt(5, false, longer))).name).toBe('IntegrityError');
    });
  });

  test('bad arguments are TypeError / RangeError', async () => {
    await expect(SegmentCipher.create(new Uint8Array(16), generateFileId())).rejects.toThrow(
      RangeError,
    );
    await expect(SegmentCipher.create(generateFileKey(), new Uint8Array(32))).rejects.toThrow(
      RangeError,
    );
    const cipher = await SegmentCipher.create(generateFileKey(), generateFileId());
    await expect(cipher.encrypt(-1, false, new Uint8Array(1))).rejects.toThrow(RangeError);
    await expect(cipher.encrypt(1.5, false, new Uint8Array(1))).rejects.toThrow(RangeError);
    await expect(cipher.encrypt(2 ** 53, false, new Uint8Array(1))).rejects.toThrow(RangeError);
  });
});

describe('segment streams', () => {
  const segments = (count: number) => Array.from({ length: count }, (_, i) => randomBytes(10 + i));

  test('round trip with the count from the manifest', async () => {
    const cipher = await SegmentCipher.create(generateFileKey(), generateFileId());
    for (const count of [1, 2, 5]) {
      const plain = segments(count);
      const sealed = await collect(encryptSegmentStream(cipher, plain));
      expect(sealed.length).toBe(count);
      const opened = await collect(decryptSegmentStream(cipher, sealed, count));
      expect(opened.map(toHex)).toEqual(plain.map(toHex));
    }
  });

  test('an empty source still seals one final segment', async () => {
    const cipher = await SegmentCipher.create(generateFileKey(), generateFileId());
    const sealed = await collect(encryptSegmentStream(cipher, []));
    expect(sealed.length).toBe(1);
    expect((await collect(decryptSegmentStream(cipher, sealed, 1)))[0]!.length).toBe(0);
  });

  test('truncation, extension, dropping and swapping are detected', async () => {
    const cipher = await SegmentCipher.create(generateFileKey(), generateFileId());
    const sealed = await collect(encryptSegmentStream(cipher, segments(4)));
    const fails = async (stream: Uint8Array[], count: number) =>
      (await errorOf(collect(decryptSegmentStream(cipher, stream, count)))).name;
    expect(await fails(sealed.slice(0, 3), 4)).toBe('TruncatedError');
    // A truncated stream cannot pass as a shorter file: its final segment was not sealed as last.
    expect(await fails(sealed.slice(0, 3), 3)).toBe('IntegrityError');
    expect(await fails([...sealed, sealed[3]!], 4)).toBe('IntegrityError');
    expect(await fails([...sealed, sealed[3]!], 5)).toBe('IntegrityError');
    expect(await fails([sealed[0]!, sealed[2]!, sealed[1]!, sealed[3]!], 4)).toBe('IntegrityError');
    expect(await fails([sealed[0]!, sealed[2]!, sealed[3]!], 3)).toBe('IntegrityError');
  });
});
