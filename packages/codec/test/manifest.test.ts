import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { equalBytes, randomBytes, toHex, utf8 } from '../src/bytes.ts';
import { TAG_SIZE, generateFileKey } from '../src/crypto/index.ts';
import { ByteWriter } from '../src/manifest/encoding.ts';
import {
  MAX_MANIFEST_SIZE,
  MAX_SEALED_MANIFEST_SIZE,
  SEALED_HEADER_SIZE,
  checkManifest,
  decodeManifest,
  encodeManifest,
  manifestSegmentCount,
  openManifest,
  sealManifest,
  type Manifest,
} from '../src/manifest/index.ts';

function errorName(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).name;
  }
  return 'no error';
}

async function asyncErrorName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).name;
  }
  return 'no error';
}

function errorMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  return '';
}

function sample(overrides: Partial<Manifest> = {}): Manifest {
  const k = overrides.k ?? 4;
  const m = overrides.m ?? 2;
  return {
    version: 1,
    fileId: randomBytes(16),
    name: 'holiday photos/été 🏔️.jpg',
    mimeType: 'image/jpeg',
    size: 1_000_000,
    modified: 1_763_900_000_000,
    cipher: 'aes-256-gcm-stream-v1',
    segmentSize: k * 65536 - TAG_SIZE,
    paddedSize: 1_048_576,
    k,
    m,
    pieceSize: 65536,
    merkle: { hash: 'sha256-v1', leafSize: 1024 },
    roots: Array.from({ length: k + m }, () => randomBytes(32)),
    ...overrides,
  };
}

function same(a: Manifest, b: Manifest): void {
  expect(toHex(encodeManifest(a))).toBe(toHex(encodeManifest(b)));
  expect({ ...b, fileId: toHex(b.fileId), roots: b.roots.map(toHex) }).toEqual({
    ...a,
    fileId: toHex(a.fileId),
    roots: a.roots.map(toHex),
  });
}

const arbManifest: fc.Arbitrary<Manifest> = fc
  .record({
    k: fc.integer({ min: 1, max: 20 }),
    m: fc.integer({ min: 0, max: 20 }),
    leafLog: fc.integer({ min: 5, max: 12 }),
    pieceLog: fc.integer({ min: 0, max: 10 }),
    segmentSlack: fc.nat(),
    paddedSize: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    sizeFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    modified: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    name: fc
      .string({ unit: 'binary', maxLength: 300 })
      .filter((s) => utf8.encode(s).length <= 1024),
    mimeType: fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 255,
    }),
    fileId: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    seed: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  })
  .map((r) => {
    const leafSize = 2 ** r.leafLog;
    const pieceSize = Math.min(leafSize * 2 ** r.pieceLog, 4 * 1024 * 1024);
    // Any segment size whose pieces round up to exactly pieceSize.
    const maxSegment = r.k * pieceSize - TAG_SIZE;
    const minSegment = Math.max(1, r.k * (pieceSize - 1) - TAG_SIZE + 1);
    const segmentSize = maxSegment - (r.segmentSlack % (maxSegment - minSegment + 1));
    const size = Math.floor(r.paddedSize * r.sizeFraction);
    return {
      version: 1,
      fileId: r.fileId,
      name: r.name,
      mimeType: r.mimeType,
      size,
      modified: r.modified,
      cipher: 'aes-256-gcm-stream-v1',
      segmentSize,
      paddedSize: r.paddedSize,
      k: r.k,
      m: r.m,
      pieceSize,
      merkle: { hash: 'sha256-v1', leafSize },
      roots: Array.from({ length: r.k + r.m }, (_, i) => r.seed.map((b) => b ^ i)),
    } satisfies Manifest;
  });

/** Field-by-field writer that lets a test put arbitrary bytes in any field. */
interface Raw {
  version: number;
  fileId: Uint8Array;
  name: Uint8Array;
  mimeType: Uint8Array;
  size: number;
  modified: number;
  cipher: number;
  segmentSize: number;
  paddedSize: number;
  k: number;
  m: number;
  pieceSize: number;
  hash: number;
  leafSize: number;
  roots: Uint8Array[];
}

function rawOf(m: Manifest): Raw {
  return {
    version: 1,
    fileId: m.fileId,
    name: utf8.encode(m.name),
    mimeType: utf8.encode(m.mimeType),
    size: m.size,
    modified: m.modified,
    cipher: 1,
    segmentSize: m.segmentSize,
    paddedSize: m.paddedSize,
    k: m.k,
    m: m.m,
    pieceSize: m.pieceSize,
    hash: 1,
    leafSize: m.merkle.leafSize,
    roots: m.roots,
  };
}

function encodeRaw(r: Raw, verbatim: Partial<Record<keyof Raw, Uint8Array>> = {}): Uint8Array {
  const w = new ByteWriter();
  const put = (key: keyof Raw, write: () => void) =>
    verbatim[key] ? w.bytes(verbatim[key]) : write();
  put('version', () => w.u8(r.version));
  put('fileId', () => w.bytes(r.fileId));
  put('name', () => w.lengthPrefixed(r.name));
  put('mimeType', () => w.lengthPrefixed(r.mimeType));
  put('size', () => w.varint(r.size));
  put('modified', () => w.varint(r.modified));
  put('cipher', () => w.u8(r.cipher));
  put('segmentSize', () => w.varint(r.segmentSize));
  put('paddedSize', () => w.varint(r.paddedSize));
  put('k', () => w.varint(r.k));
  put('m', () => w.varint(r.m));
  put('pieceSize', () => w.varint(r.pieceSize));
  put('hash', () => w.u8(r.hash));
  put('leafSize', () => w.varint(r.leafSize));
  put('roots', () => r.roots.forEach((root) => w.bytes(root)));
  return w.finish();
}

describe('manifest encoding', () => {
  test('round trip (property, unicode names)', () => {
    fc.assert(
      fc.property(arbManifest, (m) => {
        const bytes = encodeManifest(m);
        const decoded = decodeManifest(bytes);
        same(m, decoded);
        // canonical: re-encoding the decoded manifest gives the same bytes
        expect(equalBytes(encodeManifest(decoded), bytes)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test('the raw writer matches the encoder (so malformed cases below differ only where intended)', () => {
    const m = sample();
    expect(toHex(encodeRaw(rawOf(m)))).toBe(toHex(encodeManifest(m)));
  });

  test('canonical under fuzzing: any byte string that decodes re-encodes to itself', () => {
    const base = encodeManifest(sample({ k: 2, m: 1 }));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (edits) => {
          const bytes = base.slice();
          for (const [at, value] of edits) bytes[at % bytes.length] = value;
          let decoded: Manifest;
          try {
            decoded = decodeManifest(bytes);
          } catch (err) {
            expect(['MalformedError', 'UnsupportedVersionError']).toContain((err as Error).name);
            return;
          }
          expect(toHex(encodeManifest(decoded))).toBe(toHex(bytes));
        },
      ),
      { numRuns: 500 },
    );
  });

  test('edge values: empty name, empty file, maximal fields, k + m = 256', () => {
    const cases = [
      sample({ name: '', mimeType: '', size: 0, paddedSize: 0, modified: 0 }),
      sample({ name: '\u{feff}BOM first', size: 0, paddedSize: 1024 }),
      sample({ name: 'é'.repeat(512), mimeType: 'x'.repeat(255) }),
      sample({
        size: Number.MAX_SAFE_INTEGER,
        paddedSize: Number.MAX_SAFE_INTEGER,
        modified: Number.MAX_SAFE_INTEGER,
      }),
      sample({ k: 1, m: 0 }),
      sample({ k: 200, m: 56 }),
      sample({
        k: 1,
        m: 0,
        pieceSize: 32,
        segmentSize: 16,
        merkle: { hash: 'sha256-v1', leafSize: 32 },
      }),
      sample({ k: 1, m: 255, pieceSize: 4 * 1024 * 1024, segmentSize: 4 * 1024 * 1024 - TAG_SIZE }),
    ];
    for (const m of cases) same(m, decodeManifest(encodeManifest(m)));
  });

  test('segment count a decoder expects', () => {
    expect(manifestSegmentCount({ paddedSize: 0, segmentSize: 100 })).toBe(1);
    expect(manifestSegmentCount({ paddedSize: 100, segmentSize: 100 })).toBe(1);
    expect(manifestSegmentCount({ paddedSize: 101, segmentSize: 100 })).toBe(2);
  });

  describe('malformed encodings are rejected', () => {
    const m = sample();
    const raw = rawOf(m);
    const cases: Array<[string, Uint8Array, string, RegExp]> = [
      ['empty input', new Uint8Array(0), 'MalformedError', /version/],
      [
        'unknown version 0',
        encodeRaw({ ...raw, version: 0 }),
        'UnsupportedVersionError',
        /version 0/,
      ],
      [
        'unknown version 2',
        encodeRaw({ ...raw, version: 2 }),
        'UnsupportedVersionError',
        /version 2/,
      ],
      ['short fileId', encodeManifest(m).subarray(0, 10), 'MalformedError', /fileId/],
      [
        'name too long',
        encodeRaw({ ...raw, name: new Uint8Array(1025).fill(0x61) }),
        'MalformedError',
        /name/,
      ],
      [
        'name invalid UTF-8',
        encodeRaw({ ...raw, name: new Uint8Array([0x61, 0xff]) }),
        'MalformedError',
        /name: invalid UTF-8/,
      ],
      [
        'name lone surrogate (CESU)',
        encodeRaw({ ...raw, name: new Uint8Array([0xed, 0xa0, 0x80]) }),
        'MalformedError',
        /name/,
      ],
      [
        'name overlong UTF-8',
        encodeRaw({ ...raw, name: new Uint8Array([0xc0, 0xaf]) }),
        'MalformedError',
        /name/,
      ],
      [
        'name length past the end',
        encodeRaw(raw, {
          name: new Uint8Array([0x7f, 0x61]),
          mimeType: new Uint8Array(0),
          size: new Uint8Array(0),
          modified: new Uint8Array(0),
          cipher: new Uint8Array(0),
          segmentSize: new Uint8Array(0),
          paddedSize: new Uint8Array(0),
          k: new Uint8Array(0),
          m: new Uint8Array(0),
          pieceSize: new Uint8Array(0),
          hash: new Uint8Array(0),
          leafSize: new Uint8Array(0),
          roots: new Uint8Array(0),
        }),
        'MalformedError',
        /name/,
      ],
      [
        'mimeType too long',
        encodeRaw({ ...raw, mimeType: new Uint8Array(256).fill(0x61) }),
        'MalformedError',
        /mimeType/,
      ],
      [
        'mimeType not ASCII',
        encodeRaw({ ...raw, mimeType: utf8.encode('text/é') }),
        'MalformedError',
        /mimeType/,
      ],
      [
        'mimeType control character',
        encodeRaw({ ...raw, mimeType: utf8.encode('text/plain\n') }),
        'MalformedError',
        /mimeType/,
      ],
      [
        'non-minimal varint',
        encodeRaw(raw, { size: new Uint8Array([0x85, 0x00]) }),
        'MalformedError',
        /size: non-minimal/,
      ],
      [
        'non-minimal zero',
        encodeRaw({ ...raw, size: 0 }, { size: new Uint8Array([0x80, 0x00]) }),
        'MalformedError',
        /size: non-minimal/,
      ],
      [
        'varint too long',
        encodeRaw(raw, {
          modified: new Uint8Array([0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01]),
        }),
        'MalformedError',
        /modified: varint longer/,
      ],
      [
        'varint above 2^53 - 1',
        encodeRaw(raw, {
          modified: new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x10]),
        }),
        'MalformedError',
        /modified: varint exceeds/,
      ],
      ['unknown cipher id', encodeRaw({ ...raw, cipher: 2 }), 'UnsupportedVersionError', /cipher/],
      ['cipher id 0', encodeRaw({ ...raw, cipher: 0 }), 'UnsupportedVersionError', /cipher/],
      ['unknown hash id', encodeRaw({ ...raw, hash: 7 }), 'UnsupportedVersionError', /hash/],
      ['segmentSize 0', encodeRaw({ ...raw, segmentSize: 0 }), 'MalformedError', /segmentSize/],
      [
        'size above paddedSize',
        encodeRaw({ ...raw, size: raw.paddedSize + 1 }),
        'MalformedError',
        /paddedSize/,
      ],
      [
        'k = 0',
        encodeRaw({ ...raw, k: 0, roots: raw.roots.slice(0, raw.m) }),
        'MalformedError',
        /\bk\b/,
      ],
      ['k above 256', encodeRaw({ ...raw, k: 300 }), 'MalformedError', /\bk\b/],
      ['k + m above 256', encodeRaw({ ...raw, m: 253 }), 'MalformedError', /k \+ m/],
      [
        'pieceSize inconsistent with segmentSize and k',
        encodeRaw({ ...raw, pieceSize: raw.pieceSize * 2 }),
        'MalformedError',
        /pieceSize/,
      ],
      [
        'pieceSize not leafSize * 2^h',
        encodeRaw({ ...raw, pieceSize: 3 * 1024, segmentSize: raw.k * 3 * 1024 - TAG_SIZE }),
        'MalformedError',
        /pieceSize/,
      ],
      [
        'pieceSize above 4 MiB',
        encodeRaw({
          ...raw,
          pieceSize: 8 * 1024 * 1024,
          segmentSize: raw.k * 8 * 1024 * 1024 - TAG_SIZE,
        }),
        'MalformedError',
        /pieceSize/,
      ],
      [
        'leafSize not a power of two',
        encodeRaw({ ...raw, leafSize: 1000 }),
        'MalformedError',
        /leafSize/,
      ],
      ['leafSize too small', encodeRaw({ ...raw, leafSize: 16 }), 'MalformedError', /leafSize/],
      ['leafSize too large', encodeRaw({ ...raw, leafSize: 8192 }), 'MalformedError', /leafSize/],
      [
        'one root missing',
        encodeRaw({ ...raw, roots: raw.roots.slice(1) }),
        'MalformedError',
        /roots\[5\]/,
      ],
      [
        'a root cut short',
        encodeManifest(m).subarray(0, encodeManifest(m).length - 1),
        'MalformedError',
        /roots\[5\]/,
      ],
      [
        'one root too many (trailing bytes)',
        encodeRaw({ ...raw, roots: [...raw.roots, randomBytes(32)] }),
        'MalformedError',
        /32 trailing bytes/,
      ],
      [
        'one trailing byte',
        encodeRaw(raw, { roots: new Uint8Array([...raw.roots.flatMap((r) => [...r]), 0]) }),
        'MalformedError',
        /1 trailing bytes/,
      ],
      [
        'above the size limit',
        new Uint8Array(MAX_MANIFEST_SIZE + 1).fill(1),
        'MalformedError',
        /exceeds the maximum/,
      ],
    ];
    test.each(cases)('%s', (_label, bytes, name, message) => {
      expect(errorName(() => decodeManifest(bytes))).toBe(name);
      expect(errorMessage(() => decodeManifest(bytes))).toMatch(message);
    });

    test('every truncation of a valid encoding', () => {
      const bytes = encodeManifest(sample({ k: 2, m: 1 }));
      for (let length = 0; length < bytes.length; length++) {
        expect(errorName(() => decodeManifest(bytes.subarray(0, length)))).toBe('MalformedError');
      }
    });
  });

  describe('invalid manifests are refused by the encoder too', () => {
    const cases: Array<[string, Partial<Manifest>, string]> = [
      ['version 2', { version: 2 as 1 }, 'UnsupportedVersionError'],
      ['fileId of 15 bytes', { fileId: new Uint8Array(15) }, 'MalformedError'],
      ['lone surrogate in name', { name: 'a\ud800b' }, 'MalformedError'],
      ['name over 1024 bytes', { name: '€'.repeat(342) }, 'MalformedError'],
      [
        'unknown cipher',
        { cipher: 'chacha' as 'aes-256-gcm-stream-v1' },
        'UnsupportedVersionError',
      ],
      [
        'unknown hash',
        { merkle: { hash: 'blake3' as 'sha256-v1', leafSize: 1024 } },
        'UnsupportedVersionError',
      ],
      ['negative size', { size: -1 }, 'MalformedError'],
      ['fractional size', { size: 1.5 }, 'MalformedError'],
      ['unsafe paddedSize', { paddedSize: 2 ** 53 }, 'MalformedError'],
      ['wrong roots count', { roots: [] }, 'MalformedError'],
      [
        'a 31-byte root',
        { roots: [...sample().roots.slice(1), new Uint8Array(31)] },
        'MalformedError',
      ],
    ];
    test.each(cases)('%s', (_label, overrides, name) => {
      const m = sample(overrides);
      expect(errorName(() => checkManifest(m))).toBe(name);
      expect(errorName(() => encodeManifest(m))).toBe(name);
    });
  });
});

describe('sealed manifest', () => {
  test('seal/open round trip; each seal is fresh', async () => {
    const key = generateFileKey();
    const m = sample();
    const a = await sealManifest(m, key);
    const b = await sealManifest(m, key);
    expect(toHex(a)).not.toBe(toHex(b));
    same(m, await openManifest(a, key));
    same(m, await openManifest(b, key));
    expect(toHex(a.subarray(0, 5))).toBe(toHex(utf8.encode('CAIRN')));
    const encodedLength = encodeManifest(m).length;
    expect(a.length).toBe(
      SEALED_HEADER_SIZE + Math.ceil((encodedLength + 1) / 256) * 256 + TAG_SIZE,
    );
    // names of different lengths seal to the same size
    const small = sample({ k: 1, m: 0 });
    const short = await sealManifest({ ...small, name: 'a' }, key);
    const longer = await sealManifest({ ...small, name: 'a'.repeat(40) }, key);
    expect(short.length).toBe(longer.length);
  });

  test('seal/open round trip (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbManifest,
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (m, key) => {
          same(m, await openManifest(await sealManifest(m, key), key));
        },
      ),
      { numRuns: 30 },
    );
  });

  test('a flipped bit anywhere never yields a manifest', async () => {
    const key = generateFileKey();
    const sealed = await sealManifest(sample({ k: 1, m: 0, name: 'a', mimeType: '' }), key);
    const magicEnd = 5;
    const versionAt = 5;
    const keyCheckEnd = 6 + 32;
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const bad = sealed.slice();
      const at = bit >> 3;
      bad[at]! ^= 1 << (bit & 7);
      const name = await asyncErrorName(openManifest(bad, key));
      const expected =
        at < magicEnd
          ? 'MalformedError'
          : at === versionAt
            ? 'UnsupportedVersionError'
            : 'IntegrityError';
      if (name !== expected)
        throw new Error(`bit ${bit} (byte ${at}): ${name}, expected ${expected}`);
      if (at >= versionAt + 1 && at < keyCheckEnd) expect(name).toBe('IntegrityError');
    }
  });

  test('wrong key gives WrongKeyError', async () => {
    const sealed = await sealManifest(sample(), generateFileKey());
    expect(await asyncErrorName(openManifest(sealed, generateFileKey()))).toBe('WrongKeyError');
    const key = generateFileKey();
    const other = key.slice();
    other[31]! ^= 1;
    expect(await asyncErrorName(openManifest(await sealManifest(sample(), key), other))).toBe(
      'WrongKeyError',
    );
  });

  test('unknown format version gives UnsupportedVersionError, before the key is checked', async () => {
    const sealed = await sealManifest(sample(), generateFileKey());
    for (const version of [0, 2, 255]) {
      const bad = sealed.slice();
      bad[5] = version;
      expect(await asyncErrorName(openManifest(bad, generateFileKey()))).toBe(
        'UnsupportedVersionError',
      );
    }
  });

  test('truncated, oversized and garbage blobs', async () => {
    const key = generateFileKey();
    const sealed = await sealManifest(sample(), key);
    for (let length = 0; length < sealed.length; length += 3) {
      const name = await asyncErrorName(openManifest(sealed.subarray(0, length), key));
      if (length < SEALED_HEADER_SIZE + TAG_SIZE) expect(name).toBe('MalformedError');
      else expect(['MalformedError', 'IntegrityError']).toContain(name);
    }
    const extended = new Uint8Array(sealed.length + 1);
    extended.set(sealed);
    expect(await asyncErrorName(openManifest(extended, key))).toBe('IntegrityError');
    expect(await asyncErrorName(openManifest(randomBytes(500), key))).toBe('MalformedError');
    const huge = new Uint8Array(MAX_SEALED_MANIFEST_SIZE + 1);
    huge.set(sealed);
    expect(await asyncErrorName(openManifest(huge, key))).toBe('MalformedError');
  });

  test('bad arguments', async () => {
    await expect(sealManifest(sample(), new Uint8Array(16))).rejects.toThrow(RangeError);
    await expect(openManifest(new Uint8Array(100), new Uint8Array(31))).rejects.toThrow(RangeError);
  });
});
