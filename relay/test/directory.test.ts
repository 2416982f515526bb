import { generateKeyPair } from '@libp2p/crypto/keys';
import type { Libp2p, PrivateKey } from '@libp2p/interface';
import { describe, expect, it } from 'vitest';
import {
  ANNOUNCE_PROTOCOL,
  DIRECTORY_TOPIC,
  Directory,
  QUERY_PROTOCOL,
  announce,
  handleDirectoryProtocols,
  queryHosts,
  signAnnouncement,
} from '@cairn/peer/directory';
import type { SignedHostAnnouncement } from '@cairn/peer/directory';
import { _Writer } from '../../packages/peer/src/directory/encoding.ts';
import { _FrameReader, _encodeFrame } from '../../packages/peer/src/directory/frames.ts';
import type { Relay } from '../src/index.ts';
import { createClient, errorOf, perTest, waitFor } from './helpers.ts';

const WALLET = '0x1111111111111111111111111111111111111111';
const { cleanup, relay } = perTest();

async function client(options: Parameters<typeof createClient>[0] = {}): Promise<Libp2p> {
  const node = await createClient(options);
  cleanup.push(async () => node.stop());
  return node;
}

function sign(
  key: PrivateKey,
  over: Partial<Parameters<typeof signAnnouncement>[1]> = {},
): Promise<SignedHostAnnouncement> {
  return signAnnouncement(key, {
    multiaddrs: ['/ip4/127.0.0.1/tcp/1/ws'],
    freeCapacity: 1n << 30n,
    price: 7n,
    wallet: WALLET,
    ...over,
  });
}

async function metric(r: Relay, pattern: RegExp): Promise<number> {
  const text = await (await fetch(r.httpUrl + '/metrics')).text();
  return Number(pattern.exec(text)?.[1] ?? 0);
}

/** Send raw bytes on a directory protocol and collect whatever comes back. */
async function rawExchange(
  node: Libp2p,
  r: Relay,
  protocol: string,
  bytes: Uint8Array,
): Promise<Uint8Array[]> {
  const stream = await node.dialProtocol(r.multiaddrs[0]!, protocol);
  stream.send(bytes);
  await stream.close();
  const frames: Uint8Array[] = [];
  try {
    const reader = new _FrameReader(stream);
    for (;;) {
      const frame = await reader.next(1 << 20);
      if (frame == null) break;
      frames.push(frame);
    }
  } catch {
    // a reset is an acceptable answer to garbage
  }
  return frames;
}

describe('directory on the relay', () => {
  it('accepts a host announcement and answers queries', async () => {
    const r = await relay();
    const key = await generateKeyPair('Ed25519');
    const host = await client({ privateKey: key });
    const record = await sign(key);
    expect(await announce(host, r.multiaddrs[0]!, record)).toBe('added');
    expect(await announce(host, r.multiaddrs[0]!, record)).toBe('stale');
    const asker = await client();
    const found = await queryHosts(asker, r.multiaddrs[0]!, {
      minFreeCapacity: 1n << 20n,
      maxPrice: 10n,
    });
    expect(found.map((h) => h.peerId)).toEqual([host.peerId.toString()]);
    expect(found[0]!.price).toBe(7n);
    expect(await queryHosts(asker, r.multiaddrs[0]!, { maxPrice: 6n })).toEqual([]);
    expect(
      await queryHosts(asker, r.multiaddrs[0]!, { exclude: [host.peerId.toString()] }),
    ).toEqual([]);
    expect(await metric(r, /cairn_directory_hosts (\d+)/)).toBe(1);
    expect(
      await metric(
        r,
        /cairn_directory_announcements_total\{source="direct",result="added"\} (\d+)/,
      ),
    ).toBe(1);
  });

  it('rejects expired, forged and foreign announcements', async () => {
    const r = await relay();
    const key = await generateKeyPair('Ed25519');
    const host = await client({ privateKey: key });
    const relayAddr = r.multiaddrs[0]!;

    const expired = await sign(key, {
      issuedAt: Date.now() - 7_200_000,
      expiresAt: Date.now() - 3_600_000,
    });
    const e1 = await errorOf(announce(host, relayAddr, expired));
    expect(e1.name).toBe('AnnouncementRejectedError');
    expect(e1.message).toContain('AnnouncementExpiredError');

    const future = await sign(key, {
      issuedAt: Date.now() + 3_600_000,
      expiresAt: Date.now() + 7_200_000,
    });
    expect((await errorOf(announce(host, relayAddr, future))).message).toContain(
      'AnnouncementFromFutureError',
    );

    const good = await sign(key);
    const forgedBytes = good.bytes.slice();
    forgedBytes[forgedBytes.length - 1]! ^= 0xff;
    const forged = { ...good, bytes: forgedBytes };
    expect((await errorOf(announce(host, relayAddr, forged))).message).toContain(
      'InvalidSignatureError',
    );

    // a valid record, but of another peer: only a host may announce itself
    const other = await sign(await generateKeyPair('Ed25519'));
    expect((await errorOf(announce(host, relayAddr, other))).message).toContain(
      'NotOwnAnnouncementError',
    );

    expect(r.directory.size).toBe(0);
    expect(
      await metric(
        r,
        /cairn_directory_announcements_total\{source="direct",result="rejected"\} (\d+)/,
      ),
    ).toBe(4);
  });

  it('survives oversized and malformed frames', async () => {
    const r = await relay();
    const node = await client();

    // a length prefix announcing 1 MiB: refused before it is read
    const huge = new _Writer().uint(1 << 20).finish();
    const answer = await rawExchange(node, r, ANNOUNCE_PROTOCOL, huge);
    expect(new TextDecoder().decode(answer[0]!.subarray(2))).toContain('MessageTooLargeError');

    const garbage = _encodeFrame(crypto.getRandomValues(new Uint8Array(300)));
    const answer2 = await rawExchange(node, r, ANNOUNCE_PROTOCOL, garbage);
    expect(answer2[0]![0]).toBe(3); // rejected

    // truncated frame: the stream ends inside it
    const truncated = _encodeFrame(new Uint8Array(100)).subarray(0, 50);
    expect(
      new TextDecoder().decode((await rawExchange(node, r, ANNOUNCE_PROTOCOL, truncated))[0]!),
    ).toContain('UnexpectedEndOfStreamError');

    // queries: garbage and oversized get no records, the relay just resets the stream
    expect(
      await rawExchange(node, r, QUERY_PROTOCOL, _encodeFrame(Uint8Array.of(0xff, 1, 2))),
    ).toEqual([]);
    expect(
      await rawExchange(node, r, QUERY_PROTOCOL, new _Writer().uint(1 << 24).finish()),
    ).toEqual([]);
    // a non-minimal length prefix
    expect(
      await rawExchange(node, r, QUERY_PROTOCOL, Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x01)),
    ).toEqual([]);

    // still healthy and serving
    expect(((await (await fetch(r.httpUrl + '/healthz')).json()) as { ok: boolean }).ok).toBe(true);
    const key = await generateKeyPair('Ed25519');
    const host = await client({ privateKey: key });
    expect(await announce(host, r.multiaddrs[0]!, await sign(key))).toBe('added');
    expect((await queryHosts(node, r.multiaddrs[0]!)).length).toBe(1);
  });

  it('shares announcements between relays over gossipsub', async () => {
    const a = await relay();
    const b = await relay({ peers: [a.multiaddrs[0]!.toString()] });
    await waitFor(
      'the relays to see each other on the topic',
      () =>
        a.node.services.pubsub
          .getSubscribers(DIRECTORY_TOPIC)
          .some((p) => p.equals(b.node.peerId)) &&
        b.node.services.pubsub.getSubscribers(DIRECTORY_TOPIC).some((p) => p.equals(a.node.peerId)),
    );

    const key = await generateKeyPair('Ed25519');
    const host = await client({ privateKey: key });
    expect(await announce(host, a.multiaddrs[0]!, await sign(key, { price: 3n }))).toBe('added');

    const asker = await client();
    const found = await waitFor('the record on the other relay', async () => {
      const hosts = await queryHosts(asker, b.multiaddrs[0]!);
      return hosts.length > 0 ? hosts : undefined;
    });
    expect(found[0]!.peerId).toBe(host.peerId.toString());
    expect(found[0]!.price).toBe(3n);
    expect(
      await metric(
        b,
        /cairn_directory_announcements_total\{source="gossip",result="added"\} (\d+)/,
      ),
    ).toBe(1);

    // a forged record gossiped by a relay is rejected by the other and not stored
    const good = await sign(await generateKeyPair('Ed25519'));
    const forged = good.bytes.slice();
    forged[forged.length - 1]! ^= 0xff;
    await b.node.services.pubsub.publish(DIRECTORY_TOPIC, forged);
    await waitFor(
      'the forged record to be rejected',
      async () =>
        (await metric(
          a,
          /cairn_directory_announcements_total\{source="gossip",result="rejected"\} (\d+)/,
        )) === 1,
    );
    expect(a.directory.get(good.peerId)).toBeUndefined();

    // a relay that joins later fetches what the others already hold
    const c = await relay({ peers: [b.multiaddrs[0]!.toString()] });
    expect(c.directory.get(host.peerId.toString())?.price).toBe(3n);
  });

  it('takes announcements over a limited (relayed) connection', async () => {
    const r = await relay();
    // Any node can serve a directory; this one is reachable only through the relay.
    const server = await client({ listenOnRelay: true });
    const dir = new Directory();
    await handleDirectoryProtocols(server, dir);
    await server.dial(r.multiaddrs[0]!);
    const circuit = await waitFor('a circuit address', () =>
      server.getMultiaddrs().find((ma) => ma.toString().includes('/p2p-circuit')),
    );
    const key = await generateKeyPair('Ed25519');
    const host = await client({ privateKey: key });
    const conn = await host.dial(circuit);
    expect(conn.limits).toBeDefined();
    expect(await announce(host, server.peerId, await sign(key))).toBe('added');
    expect(dir.get(host.peerId.toString())).toBeDefined();
    expect((await queryHosts(host, server.peerId)).length).toBe(1);
  });
});
