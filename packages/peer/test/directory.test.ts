import { generateKeyPair } from '@libp2p/crypto/keys';
import { describe, expect, it } from 'vitest';
import {
  ANNOUNCEMENT_SIGNATURE_DOMAIN,
  Directory,
  MAX_ANNOUNCEMENT_SIZE,
  decodeAnnouncement,
  signAnnouncement,
  verifyAnnouncement,
} from '../src/directory/index.ts';
import type { SignAnnouncementParameters, SignedHostAnnouncement } from '../src/directory/index.ts';
import { _Reader, _Writer } from '../src/directory/encoding.ts';
import { _FrameReader, _encodeFrame } from '../src/directory/frames.ts';
import { _decodeQuery, _encodeQuery } from '../src/directory/protocol.ts';

const NOW = 1_800_000_000_000;
const WALLET = '0x00000000000000000000000000000000000000Aa';

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

function params(over: Partial<SignAnnouncementParameters> = {}): SignAnnouncementParameters {
  return {
    multiaddrs: ['/ip4/127.0.0.1/tcp/9090/ws/p2p-circuit', '/dns4/relay.example/tcp/443/tls/ws'],
    freeCapacity: 10n * 2n ** 30n,
    price: '1000',
    wallet: WALLET,
    issuedAt: NOW,
    expiresAt: NOW + 3_600_000,
    ...over,
  };
}

async function record(
  over: Partial<SignAnnouncementParameters> = {},
): Promise<SignedHostAnnouncement> {
  return signAnnouncement(await generateKeyPair('Ed25519'), params(over));
}

/** Split the wire form into its signed body and signature. */
function split(bytes: Uint8Array): { body: Uint8Array; signature: Uint8Array } {
  const r = new _Reader(bytes);
  return { body: r.bytes(MAX_ANNOUNCEMENT_SIZE), signature: r.bytes(128) };
}

describe('host announcement record', () => {
  it('signs, encodes and verifies', async () => {
    const key = await generateKeyPair('Ed25519');
    const signed = await signAnnouncement(key, params());
    expect(signed.wallet).toBe(WALLET.toLowerCase());
    expect(signed.price).toBe(1000n);
    expect(signed.bytes.byteLength).toBeLessThan(400);
    const verified = await verifyAnnouncement(signed.bytes, { now: NOW + 1000 });
    expect(verified.peerId).toBe(signed.peerId);
    expect(verified.multiaddrs).toEqual(params().multiaddrs);
    expect(verified.freeCapacity).toBe(10n * 2n ** 30n);
    expect(verified.issuedAt).toBe(NOW);
    expect(verified.expiresAt).toBe(NOW + 3_600_000);
    expect(decodeAnnouncement(signed.bytes).signature).toEqual(signed.signature);
  });

  it('holds uint256 prices and capacities', async () => {
    const max = (1n << 256n) - 1n;
    const signed = await record({ price: max, freeCapacity: max });
    const verified = await verifyAnnouncement(signed.bytes, { now: NOW });
    expect(verified.price).toBe(max);
    expect((await errorOf(() => record({ price: max + 1n }))).name).toBe('RangeError');
    expect((await errorOf(() => record({ price: '1.5' }))).name).toBe('TypeError');
  });

  it('rejects bad inputs when signing', async () => {
    expect((await errorOf(() => record({ wallet: '0x1234' }))).name).toBe(
      'InvalidAnnouncementError',
    );
    expect((await errorOf(() => record({ expiresAt: NOW }))).name).toBe('InvalidAnnouncementError');
    const many = Array.from({ length: 17 }, (_, i) => `/ip4/127.0.0.1/tcp/${1000 + i}/ws`);
    expect((await errorOf(() => record({ multiaddrs: many }))).name).toBe(
      'InvalidAnnouncementError',
    );
  });

  it('rejects a tampered body or signature', async () => {
    const signed = await record();
    const body = signed.bytes.slice();
    body[10]! ^= 1; // inside the peer id text or later fields
    const err1 = await errorOf(verifyAnnouncement(body, { now: NOW }));
    expect([
      'InvalidSignatureError',
      'InvalidAnnouncementError',
      'MalformedMessageError',
    ]).toContain(err1.name);
    const sig = signed.bytes.slice();
    sig[sig.length - 1]! ^= 1;
    expect((await errorOf(verifyAnnouncement(sig, { now: NOW }))).name).toBe(
      'InvalidSignatureError',
    );
    // change the price byte: still well formed, so only the signature can catch it
    const { body: b, signature } = split(signed.bytes);
    const fields = decodeAnnouncement(signed.bytes);
    const priced = b.slice();
    // price 1000 = 2-byte varint before wallet, times (6-byte varints), flags and upSince
    const priceOffset = b.byteLength - 2 - 20 - 6 - 6 - 1 - 6;
    expect(new _Reader(priced.subarray(priceOffset)).bigUint()).toBe(fields.price);
    priced[priceOffset]! ^= 0x01;
    const forged = new _Writer().bytes(priced).bytes(signature).finish();
    expect((await errorOf(verifyAnnouncement(forged, { now: NOW }))).name).toBe(
      'InvalidSignatureError',
    );
  });

  it('rejects a record signed by another key than its peer id', async () => {
    const victim = await record();
    const attacker = await generateKeyPair('Ed25519');
    const { body } = split(victim.bytes);
    const domain = new TextEncoder().encode(ANNOUNCEMENT_SIGNATURE_DOMAIN + '\0');
    const payload = new Uint8Array([...domain, ...body]);
    const forged = new _Writer()
      .bytes(body)
      .bytes(await attacker.sign(payload))
      .finish();
    expect((await errorOf(verifyAnnouncement(forged, { now: NOW }))).name).toBe(
      'InvalidSignatureError',
    );
  });

  it('rejects expired, far-future and too long-lived records', async () => {
    const signed = await record();
    expect((await errorOf(verifyAnnouncement(signed, { now: NOW + 3_600_000 }))).name).toBe(
      'AnnouncementExpiredError',
    );
    expect((await errorOf(verifyAnnouncement(signed, { now: NOW - 3_600_000 }))).name).toBe(
      'AnnouncementFromFutureError',
    );
    // a little clock skew is fine
    await verifyAnnouncement(signed, { now: NOW - 60_000 });
    const long = await record({ expiresAt: NOW + 48 * 3_600_000 });
    expect((await errorOf(verifyAnnouncement(long, { now: NOW }))).name).toBe(
      'AnnouncementFromFutureError',
    );
  });

  it('rejects oversized and malformed bytes', async () => {
    const signed = await record();
    const big = new Uint8Array(MAX_ANNOUNCEMENT_SIZE + 1);
    expect((await errorOf(verifyAnnouncement(big, { now: NOW }))).name).toBe(
      'MessageTooLargeError',
    );
    const truncated = signed.bytes.subarray(0, signed.bytes.byteLength - 5);
    expect((await errorOf(verifyAnnouncement(truncated, { now: NOW }))).name).toBe(
      'MalformedMessageError',
    );
    const trailing = new Uint8Array([...signed.bytes, 0]);
    expect((await errorOf(verifyAnnouncement(trailing, { now: NOW }))).name).toBe(
      'MalformedMessageError',
    );
    expect((await errorOf(verifyAnnouncement(new Uint8Array(0), { now: NOW }))).name).toBe(
      'MalformedMessageError',
    );
    // a length prefix claiming more than the limit
    const huge = new _Writer().uint(1_000_000).finish();
    expect((await errorOf(verifyAnnouncement(huge, { now: NOW }))).name).toBe(
      'MessageTooLargeError',
    );
    // non-minimal varint (0x80 0x00 encodes zero in two bytes)
    expect(() => new _Reader(Uint8Array.of(0x80, 0x00)).uint()).toThrow(/non-minimal/);
    // random garbage never crashes with anything but our error classes
    for (let i = 0; i < 200; i++) {
      const junk = crypto.getRandomValues(new Uint8Array(1 + (i % 300)));
      const err = await errorOf(verifyAnnouncement(junk, { now: NOW }));
      expect([
        'MalformedMessageError',
        'MessageTooLargeError',
        'InvalidAnnouncementError',
        'InvalidSignatureError',
      ]).toContain(err.name);
    }
  });
});

describe('Directory', () => {
  it('keeps the latest record per peer and drops expired ones', async () => {
    let now = NOW;
    const dir = new Directory({ now: () => now });
    const key = await generateKeyPair('Ed25519');
    const first = await signAnnouncement(key, params());
    const second = await signAnnouncement(key, params({ issuedAt: NOW + 10, price: 5n }));
    expect(dir.put(first)).toBe('added');
    expect(dir.put(second)).toBe('updated');
    expect(dir.put(first)).toBe('stale');
    expect(dir.get(first.peerId)?.price).toBe(5n);
    now = NOW + 3_600_011;
    expect(dir.get(first.peerId)).toBeUndefined();
    expect(dir.query()).toEqual([]);
  });

  it('verifies before storing', async () => {
    const dir = new Directory({ now: () => NOW });
    const signed = await record();
    expect((await dir.add(signed.bytes)).result).toBe('added');
    const bad = signed.bytes.slice();
    bad[bad.length - 1]! ^= 1;
    expect((await errorOf(dir.add(bad))).name).toBe('InvalidSignatureError');
    expect(dir.size).toBe(1);
  });

  it('filters and orders queries', async () => {
    const dir = new Directory({ now: () => NOW });
    const a = await record({ price: 10n, freeCapacity: 100n });
    const b = await record({ price: 5n, freeCapacity: 50n });
    const c = await record({ price: 5n, freeCapacity: 500n });
    for (const r of [a, b, c]) dir.put(r);
    expect(dir.query().map((r) => r.peerId)).toEqual([c.peerId, b.peerId, a.peerId]);
    expect(dir.query({ maxPrice: 5n }).length).toBe(2);
    expect(dir.query({ minFreeCapacity: 100n }).map((r) => r.peerId)).toEqual([c.peerId, a.peerId]);
    expect(dir.query({ exclude: [c.peerId], limit: 1 }).map((r) => r.peerId)).toEqual([b.peerId]);
    // Looking up given peers: only those, unknown ones left out, still ordered.
    const unknown = (await record()).peerId;
    expect(dir.query({ peers: [a.peerId, unknown, b.peerId] }).map((r) => r.peerId)).toEqual([
      b.peerId,
      a.peerId,
    ]);
    expect(dir.query({ peers: [] })).toEqual([]);
  });

  it('encodes queries canonically, peers included', () => {
    const filter = { maxPrice: 7n, limit: 3, exclude: ['x'], peers: ['a', 'b'] };
    expect(_decodeQuery(_encodeQuery(filter))).toEqual(filter);
    expect(_decodeQuery(_encodeQuery({}))).toEqual({ limit: 20, exclude: [] });
    const bad = _encodeQuery({});
    bad[0] = 8;
    expect(() => _decodeQuery(bad)).toThrow(/unknown query flags/);
  });

  it('is bounded: evicts the record that expires soonest', async () => {
    const dir = new Directory({ maxEntries: 2, now: () => NOW });
    const soon = await record({ expiresAt: NOW + 1000 });
    const later = await record({ expiresAt: NOW + 5000 });
    const latest = await record({ expiresAt: NOW + 9000 });
    dir.put(soon);
    dir.put(later);
    expect(dir.put(latest)).toBe('added');
    expect(dir.size).toBe(2);
    expect(dir.get(soon.peerId)).toBeUndefined();
    // a newcomer that would expire before everyone held is not let in
    expect(dir.put(await record({ expiresAt: NOW + 500 }))).toBe('stale');
  });
});

describe('frames', () => {
  async function* chunks(...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
    for (const p of parts) yield p;
  }

  it('reads frames split across chunks', async () => {
    const a = _encodeFrame(new Uint8Array(300).fill(7));
    const b = _encodeFrame(Uint8Array.of(1, 2, 3));
    const all = new Uint8Array([...a, ...b]);
    const reader = new _FrameReader(
      chunks(all.subarray(0, 1), all.subarray(1, 200), all.subarray(200)),
    );
    expect((await reader.next(1000))!.byteLength).toBe(300);
    expect(await reader.next(1000)).toEqual(Uint8Array.of(1, 2, 3));
    expect(await reader.next(1000)).toBeUndefined();
  });

  it('refuses a frame over the limit before reading it', async () => {
    const reader = new _FrameReader(chunks(_encodeFrame(new Uint8Array(2000)).subarray(0, 3)));
    expect((await errorOf(reader.next(1000))).name).toBe('MessageTooLargeError');
  });

  it('reports a stream that ends inside a frame', async () => {
    const reader = new _FrameReader(chunks(_encodeFrame(new Uint8Array(20)).subarray(0, 10)));
    expect((await errorOf(reader.next(1000))).name).toBe('UnexpectedEndOfStreamError');
  });
});
