// The drive over the real network, all in Node: a relay (with its directory), headless hosts that
// announce themselves, and clients that upload by the directory and download by share link, over
// WebRTC between the peers (node-datachannel), signalled through the relay. Hosts misbehave on
// purpose: full, corrupt, stalled, gone mid-transfer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  WrongKeyError,
  decodeShareLink,
  encodeShareLink,
  InvalidShareLinkError,
} from '@cairn/codec';
import {
  RecordUnavailableError,
  decodeManifestRef,
  encodeManifestRef,
  getFile,
  openLink,
  putFile,
} from '@cairn/drive';
import { createCairnNode } from '@cairn/peer';
import { relayMetric } from '../relay/test/helpers.ts';
import { MiB, collect, netFixture, randomFile, sha, type NetFixture } from './net-fixture.ts';

/** Bytes the relay forwarded on relayed connections (its own counter). */
const RELAYED = 'cairn_relay_relayed_bytes_total';

let net: NetFixture;
const client = () => net.client();

beforeAll(async () => {
  net = await netFixture();
  // Six honest hosts; one that says it has almost no room; one that announced plenty of room at
  // the lowest price and then filled up (so clients pick it first and it has to refuse).
  for (let i = 0; i < 6; i++) await net.startHost();
  await net.startHost(256 * 1024);
  const liar = await net.startHost(64 * MiB, 0n);
  await net.waitForHosts(8);
  liar.store.setQuota(64 * 1024);
});

afterAll(() => net?.stop());

describe('upload by directory, download by share link, over WebRTC between Node peers', () => {
  const file = randomFile(6 * MiB + 12_345);
  let link = '';
  let holders: string[] = [];

  it('uploads to n distinct hosts; a host that is full refuses and its shard goes to another', async () => {
    const network = await client();
    const phases = new Set<string>();
    const result = await putFile(network, () => file, {
      k: 3,
      m: 3,
      name: 'photo.raw',
      size: file.byteLength,
      baseUrl: 'http://127.0.0.1:5173/',
      onProgress: (p) => phases.add(p.phase),
    });
    link = result.link;
    holders = result.placements.map((p) => p.host);
    expect(new Set(holders).size).toBe(6);
    expect(holders).not.toContain(net.hosts[6]!.node.peerId.toString());
    expect(holders).not.toContain(net.hosts[7]!.node.peerId.toString());
    expect((await net.hosts[7]!.store.usage()).used).toBe(0);
    expect([...phases]).toEqual(
      expect.arrayContaining(['hashing', 'uploading', 'retrying', 'done']),
    );
    expect(link.startsWith('http://127.0.0.1:5173/#')).toBe(true);
    // Every holder keeps its shard and the file record; none holds plaintext.
    for (const h of net.hosts.slice(0, 6))
      expect((await h.store.usage()).shards).toBeGreaterThanOrEqual(2);
    // The relay carried signalling only: far less than one shard.
    const shardBytes = result.manifest.size / 3;
    expect(await relayMetric(net.relay.httpUrl, RELAYED)).toBeLessThan(shardBytes / 4);
  });

  it('downloads the identical bytes in a fresh client from the link alone; both ends count egress', async () => {
    const network = await client();
    const received = new Map<string, number>();
    const got = await getFile(network, link, {
      onPiece: (p) => received.set(p.host, (received.get(p.host) ?? 0) + p.bytes),
    });
    expect(got.manifest.name).toBe('photo.raw');
    const bytes = await collect(got.body);
    expect(bytes.byteLength).toBe(file.byteLength);
    expect(sha(bytes)).toBe(sha(file));
    // Egress: what each host says it served this client covers what the client received from
    // it (plus the file record and hedged requests cut short), and k pieces per segment arrived.
    const me = network.node.peerId.toString();
    let total = 0;
    let served = 0;
    for (const h of net.hosts) {
      const id = h.node.peerId.toString();
      const got = received.get(id) ?? 0;
      const sent = h.hosting.service.traffic().get(me)?.bytesServed ?? 0;
      expect(sent).toBeGreaterThanOrEqual(got);
      total += got;
      served += sent;
    }
    expect(total).toBeGreaterThanOrEqual(file.byteLength);
    expect(served).toBeLessThan(2 * total + MiB);
  });

  it('survives a corrupt host, a stalled host and one that vanishes mid-download, reporting them', async () => {
    const byId = new Map(net.hosts.map((h) => [h.node.peerId.toString(), h]));
    const [corrupt, stalled, vanishing] = holders.map((id) => byId.get(id)!);
    corrupt!.store.faults = { corrupt: true };
    stalled!.store.faults = { stall: true };
    const network = await client();
    const faults: { host: string; reason: string }[] = [];
    const got = await getFile(network, link, {
      hedge: 2,
      onFault: (f) => faults.push({ host: f.host, reason: f.reason }),
    });
    const parts: Uint8Array[] = [];
    let stopped = false;
    for await (const chunk of got.body) {
      parts.push(chunk);
      if (!stopped) {
        stopped = true;
        await vanishing!.hosting.stop();
        await vanishing!.node.stop();
      }
    }
    expect(sha(Buffer.concat(parts))).toBe(sha(file));
    const corruptId = corrupt!.node.peerId.toString();
    expect(faults).toContainEqual({ host: corruptId, reason: 'corrupt' });
    corrupt!.store.faults = {};
    stalled!.store.faults = {};
  });

  it('refuses a link with the wrong key, a mangled link, and a link whose hosts are all gone', async () => {
    const network = await client();
    const { manifestRef } = decodeShareLink(link);
    const wrongKey = encodeShareLink({ manifestRef, fileKey: new Uint8Array(32).fill(7) });
    await expect(openLink(network, wrongKey)).rejects.toBeInstanceOf(WrongKeyError);
    const fragment = link.slice(link.indexOf('#') + 1);
    const mangled = fragment.slice(0, 10) + (fragment[10] === 'A' ? 'B' : 'A') + fragment.slice(11);
    await expect(openLink(network, mangled)).rejects.toBeInstanceOf(InvalidShareLinkError);
    // The same record, but naming only hosts no directory knows.
    const ref = decodeManifestRef(manifestRef);
    const stranger = (await createCairnNode({ start: false })).peerId.toString();
    const orphan = encodeShareLink({
      manifestRef: encodeManifestRef({ ...ref, hints: [stranger] }),
      fileKey: decodeShareLink(link).fileKey,
    });
    const err = await openLink(network, orphan).catch((e: unknown) => e as Error);
    expect(err).toBeInstanceOf(RecordUnavailableError);
    expect((err as Error).message).toMatch(/none of the 1 hosts/);
  });
});
