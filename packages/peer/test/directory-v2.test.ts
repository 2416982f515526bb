// Version 2 host records (storage durability, uptime) and the scores wire format. Old (version 1)
// records are built here byte by byte, as an old host would have, and must still verify.
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { describe, expect, it } from 'vitest';
import {
  ANNOUNCEMENT_SIGNATURE_DOMAIN,
  ANNOUNCEMENT_VERSION,
  MAX_ANNOUNCEMENT_SIZE,
  MAX_SCORES_PEERS,
  decodeAnnouncement,
  signAnnouncement,
  verifyAnnouncement,
} from '../src/directory/index.ts';
import type { HostEvidence } from '../src/directory/index.ts';
import { _Reader, _Writer } from '../src/directory/encoding.ts';
import {
  _decodeScoresRequest,
  _decodeScoresResponse,
  _encodeScoresRequest,
  _encodeScoresResponse,
} from '../src/directory/scores.ts';

const NOW = 1_800_000_000_000;
const WALLET = '0x00000000000000000000000000000000000000aa';
const ADDR = '/ip4/127.0.0.1/tcp/9090/ws/p2p-circuit';

async function errorOf(p: Promise<unknown> | (() => unknown)): Promise<Error> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

/** A record body written by hand: `version`, the v1 fields, then whatever `tail` adds. */
function body(key: PrivateKey, version: number, tail: (w: _Writer) => void = () => {}): Uint8Array {
  const w = new _Writer()
    .byte(version)
    .string(peerIdFromPrivateKey(key).toString())
    .uint(1)
    .bytes(multiaddr(ADDR).bytes)
    .bigUint(5n << 30n)
    .bigUint(42n)
    .raw(new Uint8Array(20).fill(0xaa, 19))
    .uint(NOW)
    .uint(NOW + 3_600_000);
  tail(w);
  return w.finish();
}

async function signed(key: PrivateKey, b: Uint8Array): Promise<Uint8Array> {
  const domain = new TextEncoder().encode(ANNOUNCEMENT_SIGNATURE_DOMAIN + '\0');
  const sig = await key.sign(new Uint8Array([...domain, ...b]));
  return new _Writer().bytes(b).bytes(new Uint8Array(sig)).finish();
}

describe('host record version 2', () => {
  it('carries persistence and uptime through signing, the wire and verification', async () => {
    const key = await generateKeyPair('Ed25519');
    const record = await signAnnouncement(key, {
      multiaddrs: [ADDR],
      freeCapacity: 1n << 30n,
      price: 3n,
      wallet: WALLET,
      issuedAt: NOW,
      persistent: true,
      upSince: NOW - 86_400_000,
    });
    expect(new _Reader(record.bytes).bytes(MAX_ANNOUNCEMENT_SIZE)[0]).toBe(ANNOUNCEMENT_VERSION);
    expect(ANNOUNCEMENT_VERSION).toBe(2);
    const back = await verifyAnnouncement(record.bytes, { now: NOW + 1 });
    expect(back.persistent).toBe(true);
    expect(back.upSince).toBe(NOW - 86_400_000);
    expect(back.price).toBe(3n);
  });

  it('defaults to not persistent, up since the record was issued', async () => {
    const key = await generateKeyPair('Ed25519');
    const record = await signAnnouncement(key, {
      multiaddrs: [ADDR],
      freeCapacity: 1n,
      price: 0n,
      wallet: WALLET,
      issuedAt: NOW,
    });
    const back = decodeAnnouncement(record.bytes);
    expect(back.persistent).toBe(false);
    expect(back.upSince).toBe(NOW);
  });

  it('still reads version 1 records (no flags, no upSince)', async () => {
    const key = await generateKeyPair('Ed25519');
    const v1 = await signed(key, body(key, 1));
    const back = await verifyAnnouncement(v1, { now: NOW + 1 });
    expect(back.persistent).toBe(false);
    expect(back.upSince).toBeUndefined();
    expect(back.price).toBe(42n);
    expect(back.multiaddrs).toEqual([ADDR]);
    expect(back.bytes).toEqual(v1);
  });

  it('rejects a version 1 record with version 2 fields, and a version 2 record without them', async () => {
    const key = await generateKeyPair('Ed25519');
    const v1Long = await signed(
      key,
      body(key, 1, (w) => w.byte(1).uint(NOW)),
    );
    expect((await errorOf(verifyAnnouncement(v1Long, { now: NOW }))).name).toBe(
      'MalformedMessageError',
    );
    const v2Short = await signed(key, body(key, 2));
    expect((await errorOf(verifyAnnouncement(v2Short, { now: NOW }))).name).toBe(
      'MalformedMessageError',
    );
    const v2NoUpSince = await signed(
      key,
      body(key, 2, (w) => w.byte(1)),
    );
    expect((await errorOf(verifyAnnouncement(v2NoUpSince, { now: NOW }))).name).toBe(
      'MalformedMessageError',
    );
  });

  it('rejects unknown versions and flags, and uptime after the issue time', async () => {
    const key = await generateKeyPair('Ed25519');
    for (const version of [0, 3, 255]) {
      const bytes = await signed(
        key,
        body(key, version, (w) => w.byte(0).uint(NOW)),
      );
      const err = await errorOf(verifyAnnouncement(bytes, { now: NOW }));
      expect(err.name).toBe('MalformedMessageError');
      expect(err.message).toMatch(/version/);
    }
    const flagged = await signed(
      key,
      body(key, 2, (w) => w.byte(0b10).uint(NOW)),
    );
    expect((await errorOf(verifyAnnouncement(flagged, { now: NOW }))).message).toMatch(/flags/);
    const future = await signed(
      key,
      body(key, 2, (w) => w.byte(0).uint(NOW + 1)),
    );
    expect((await errorOf(verifyAnnouncement(future, { now: NOW }))).name).toBe(
      'InvalidAnnouncementError',
    );
    const nonMinimal = await signed(
      key,
      body(key, 2, (w) => w.byte(0).raw(Uint8Array.of(0x80, 0x00))),
    );
    expect((await errorOf(verifyAnnouncement(nonMinimal, { now: NOW }))).name).toBe(
      'MalformedMessageError',
    );
    const err = await errorOf(
      signAnnouncement(key, {
        multiaddrs: [ADDR],
        freeCapacity: 1n,
        price: 0n,
        wallet: WALLET,
        issuedAt: NOW,
        upSince: NOW + 1,
      }),
    );
    expect(err.name).toBe('InvalidAnnouncementError');
  });

  it('keeps the size limit: a record of 16 long addresses is refused when over 4 KiB', async () => {
    const key = await generateKeyPair('Ed25519');
    const long = (i: number): string =>
      `/dns4/${'h'.repeat(232)}${i.toString().padStart(2, '0')}.example/tcp/443/tls/ws`;
    const err = await errorOf(
      signAnnouncement(key, {
        multiaddrs: Array.from({ length: 16 }, (_, i) => long(i)),
        freeCapacity: 1n,
        price: 0n,
        wallet: WALLET,
        issuedAt: NOW,
        persistent: true,
      }),
    );
    expect(err.name).toBe('MessageTooLargeError');
    // and what the host sends (8 circuit WebRTC addresses) stays far below it
    const host = await signAnnouncement(key, {
      multiaddrs: Array.from(
        { length: 8 },
        (_, i) =>
          `/ip4/127.0.0.1/tcp/${9000 + i}/ws/p2p/${peerIdFromPrivateKey(key)}/p2p-circuit/webrtc`,
      ),
      freeCapacity: 1n << 40n,
      price: 1n << 200n,
      wallet: WALLET,
      issuedAt: NOW,
      persistent: true,
    });
    expect(host.bytes.byteLength).toBeLessThan(MAX_ANNOUNCEMENT_SIZE / 2);
  });
});

describe('scores wire format', () => {
  const entry = (peerId: string, over: Partial<HostEvidence> = {}): HostEvidence => ({
    peerId,
    answered: 3.25,
    passed: 12.001,
    failed: 0,
    unreachable: 1.5,
    latencyMs: 42,
    answeringForMs: 3_600_000,
    ...over,
  });

  it('round-trips requests and answers', () => {
    expect(_decodeScoresRequest(_encodeScoresRequest(['a', 'b', 'a']))).toEqual(['a', 'b']);
    const entries = [entry('a'), entry('b', { latencyMs: undefined, answeringForMs: 0 })];
    const back = _decodeScoresResponse(_encodeScoresResponse(entries));
    expect(back[0]).toEqual(entries[0]);
    expect(back[1]).toEqual({ ...entries[1], latencyMs: undefined });
    expect('latencyMs' in back[1]!).toBe(false);
  });

  it('bounds what it reads and writes', () => {
    const many = Array.from({ length: MAX_SCORES_PEERS + 1 }, (_, i) => `p${i}`);
    expect(() => _encodeScoresRequest(many)).toThrow(RangeError);
    const tooMany = new _Writer().uint(MAX_SCORES_PEERS + 1).finish();
    expect(() => _decodeScoresRequest(tooMany)).toThrow(/more than/);
    expect(() => _decodeScoresResponse(tooMany)).toThrow(/more than/);
    const dup = new _Writer().uint(2).string('a').string('a').finish();
    expect(() => _decodeScoresRequest(dup)).toThrow(/duplicate/);
    const trailing = new Uint8Array([..._encodeScoresRequest(['a']), 0]);
    expect(() => _decodeScoresRequest(trailing)).toThrow(/trailing/);
    // counts are capped when written and checked when read
    const huge = _decodeScoresResponse(_encodeScoresResponse([entry('a', { passed: 1e12 })]));
    expect(huge[0]!.passed).toBe(1_000_000);
    const over = new _Writer()
      .uint(1)
      .string('a')
      .uint(1_000_000_001)
      .uint(0)
      .uint(0)
      .uint(0)
      .uint(0)
      .uint(0)
      .finish();
    expect(() => _decodeScoresResponse(over)).toThrow(/out of range/);
    const slow = new _Writer()
      .uint(1)
      .string('a')
      .uint(0)
      .uint(0)
      .uint(0)
      .uint(0)
      .uint(10 * 60_000 + 2)
      .uint(0)
      .finish();
    expect(() => _decodeScoresResponse(slow)).toThrow(/latency/);
    expect(() => _encodeScoresResponse([entry('a', { failed: -1 })])).toThrow(RangeError);
  });
});
