import type { Libp2p } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { MerkleTree, hashLeaf, leafCountOf, verifyProof } from '@cairn/codec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUDIT_PROTOCOL,
  GET_PROTOCOL,
  HostService,
  PUT_PROTOCOL,
  audit,
  createCairnNode,
  getPiece,
  getRange,
  isWebRTCAddress,
  putShard,
  PutRefusedError,
  requestQuote,
  treeIdOf,
  verifyReceipt,
} from '../src/index.ts';
import { MemoryShardStore } from '@cairn/store';
import { FaultyShardStore } from '@cairn/store/testing';
import type { CairnNode, HostServiceInit } from '../src/index.ts';
import { _Channel, _encodeFrame } from '../src/channel.ts';
import { _toHex } from '../src/signatures.ts';
import { decodeGetResponse, decodePutResponse, encodePutRequest } from '../src/wire.ts';
import { makeShard, startTestRelay } from './fixtures.ts';

const MiB = 1024 * 1024;
const PIECE = 256 * 1024;

async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

interface Host {
  node: CairnNode;
  store: FaultyShardStore;
  service: HostService;
  addr: Multiaddr;
}

let relay: { node: Libp2p; addr: string };
const nodes: CairnNode[] = [];

async function node(relayed = true): Promise<CairnNode> {
  const n = await createCairnNode({
    relays: relayed ? [relay.addr] : [],
    allowPrivateAddresses: true,
  });
  nodes.push(n);
  return n;
}

async function host(
  quota = 64 * MiB,
  idleTimeoutMs?: number,
  hooks: Pick<HostServiceInit, 'admit' | 'quoter'> = {},
): Promise<Host> {
  const n = await node();
  const store = new FaultyShardStore(new MemoryShardStore({ quota }));
  const service = new HostService(n, {
    store,
    privateKey: n.privateKey,
    ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
    ...hooks,
  });
  await service.start();
  const addr = await n.waitForMultiaddr(isWebRTCAddress, { signal: AbortSignal.timeout(20_000) });
  return { node: n, store, service, addr };
}

beforeAll(async () => {
  relay = await startTestRelay();
});

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await relay.node.stop();
});

describe('shard protocols between Node peers over WebRTC (signalled through a relay)', () => {
  let h: Host;
  let client: CairnNode;
  const size = 3 * MiB + 12_345; // a short last piece and a short last leaf
  const shard = makeShard(size);

  beforeAll(async () => {
    h = await host();
    client = await node(false);
  });

  it('puts a shard, returns a signed receipt, and serves ranges, pieces with proofs and audits', async () => {
    const started = performance.now();
    const receipt = await putShard(client, h.addr, chunks(shard.bytes, 100_000), {
      root: shard.root,
      size,
      deal: new Uint8Array([1, 2, 3]),
    });
    const seconds = (performance.now() - started) / 1000;
    console.info(
      `put ${(size / MiB).toFixed(1)} MiB in ${seconds.toFixed(2)} s: ${(size / MiB / seconds).toFixed(1)} MB/s`,
    );
    expect(receipt.host).toBe(h.node.peerId.toString());
    expect(receipt.size).toBe(size);
    expect(_toHex(receipt.root)).toBe(_toHex(shard.root));
    expect(receipt.dealHash.byteLength).toBe(32);
    await verifyReceipt(receipt.signed, { host: h.node.peerId, root: shard.root, size });

    // The transfer ran on a direct WebRTC connection, not the relay.
    const conns = client.libp2p.getConnections(h.node.peerId);
    expect(conns.some((c) => c.limits == null && c.remoteAddr.toString().includes('/webrtc'))).toBe(
      true,
    );

    expect(await h.store.has(_toHex(shard.root))).toBe(true);
    const range = await getRange(client, h.addr, {
      root: shard.root,
      offset: 1000,
      length: 70_000,
    });
    expect(range).toEqual(shard.bytes.subarray(1000, 71_000));

    const tree = MerkleTree.build(shard.bytes);
    const pieces = Math.ceil(size / PIECE);
    for (const index of [0, 5, pieces - 1]) {
      const piece = await getPiece(client, h.addr, {
        root: shard.root,
        shardSize: size,
        index,
        pieceSize: PIECE,
      });
      expect(piece.bytes).toEqual(shard.bytes.subarray(index * PIECE, (index + 1) * PIECE));
      expect(piece.proof).toEqual(tree.subtreeProof(8, index));
    }
    // Pieces smaller than the host's proof blocks take siblings from a rehashed block.
    const small = await getPiece(client, h.addr, {
      root: shard.root,
      shardSize: size,
      index: 77,
      pieceSize: 4096,
    });
    expect(small.proof).toEqual(tree.subtreeProof(2, 77));

    const lastLeaf = Math.ceil(size / 1024) - 1;
    const result = await audit(client, h.addr, {
      root: shard.root,
      size,
      indices: [0, 1, 2047, lastLeaf],
    });
    expect(result.indices).toEqual([0, 1, 2047, lastLeaf]);
    await audit(client, h.addr, { root: shard.root, size, count: 16 });

    const traffic = h.service.traffic().get(client.peerId.toString());
    expect(traffic?.bytesReceived).toBe(size);
    expect(traffic?.bytesServed).toBeGreaterThan(70_000 + 2 * PIECE);
  });

  it('answers a second put of a stored shard with a fresh receipt and no bytes', async () => {
    const receipt = await putShard(client, h.addr, [], { root: shard.root, size });
    expect(receipt.size).toBe(size);
  });

  it('rejects a piece request the host cannot serve', async () => {
    const missing = makeShard(1024);
    const err = await errorOf(
      getRange(client, h.addr, { root: missing.root, offset: 0, length: 10 }),
    );
    expect(err.name).toBe('ShardNotFoundError');
    const past = await errorOf(
      getRange(client, h.addr, { root: shard.root, offset: size - 5, length: 10 }),
    );
    expect(past.name).toBe('MalformedMessageError');
  });

  it('proves any leaf from the store for an on-chain challenge, the short last leaf included', async () => {
    const shard = makeShard(3 * 1024 * 1024 + 100);
    await putShard(client, h.addr, shard.bytes, { root: shard.root, size: shard.bytes.byteLength });
    const id = _toHex(shard.root);
    const leafCount = leafCountOf(shard.bytes.byteLength, 1024);
    for (const index of [0, 1, 63, 64, 1000, leafCount - 1]) {
      const { leaf, proof } = await h.service.proveLeaf(id, index);
      expect(leaf).toEqual(shard.bytes.subarray(index * 1024, index * 1024 + 1024));
      expect(
        verifyProof({
          root: shard.root,
          leafCount,
          index,
          height: 0,
          node: hashLeaf(leaf, 1024),
          proof,
        }),
      ).toBe(true);
    }
    await expect(h.service.proveLeaf(id, leafCount)).rejects.toThrow(/past the shard/);
    await expect(h.service.proveLeaf('ab'.repeat(32), 0)).rejects.toHaveProperty(
      'name',
      'ShardNotFoundError',
    );
  });

  it('fails the audit of a host whose stored bytes were corrupted', async () => {
    const other = makeShard(512 * 1024);
    await putShard(client, h.addr, other.bytes, { root: other.root, size: other.bytes.byteLength });
    await audit(client, h.addr, { root: other.root, size: other.bytes.byteLength, indices: [300] });
    h.store.faults = { corrupt: new Set([_toHex(other.root)]) };
    const err = await errorOf(
      audit(client, h.addr, { root: other.root, size: other.bytes.byteLength, indices: [300] }),
    );
    expect(err.name).toBe('AuditFailedError');
    const bad = await errorOf(
      getPiece(client, h.addr, {
        root: other.root,
        shardSize: other.bytes.byteLength,
        index: 1,
        pieceSize: PIECE,
      }),
    );
    expect(bad.name).toBe('IntegrityError');
    // The fault corrupts every read of this shard, so piece 0 fails too.
    await getPiece(client, h.addr, {
      root: other.root,
      shardSize: other.bytes.byteLength,
      index: 0,
      pieceSize: PIECE,
    }).then(
      () => expect.unreachable('a corrupted piece verified'),
      (e: Error) => expect(e.name).toBe('IntegrityError'),
    );
    h.store.faults = {};
    // With the disk honest again, the pieces verify.
    await getPiece(client, h.addr, {
      root: other.root,
      shardSize: other.bytes.byteLength,
      index: 0,
      pieceSize: PIECE,
    });
  });

  it('rejects a put whose bytes do not match the root, storing nothing', async () => {
    const before = await h.store.usage();
    const good = makeShard(300_000);
    const wrong = good.bytes.slice();
    wrong[123_456]! ^= 1;
    const err = await errorOf(
      putShard(client, h.addr, wrong, { root: good.root, size: wrong.byteLength }),
    );
    expect(err.name).toBe('BadRootError');
    expect(await h.store.has(_toHex(good.root))).toBe(false);
    expect(await h.store.usage()).toEqual(before);
    expect((await h.service.usage()).reserved).toBe(0);
  });

  it('rejects frames that are oversized or malformed without crashing, then serves again', async () => {
    // A length prefix announcing 1 GiB: refused from the prefix alone.
    const raw = await client.dialProtocol(h.addr, PUT_PROTOCOL);
    const ch = new _Channel(raw, AbortSignal.timeout(10_000), 5_000, 'test');
    await ch.writeRaw(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x04));
    const answer = decodePutResponse(await ch.readFrame(4096));
    expect(answer.type === 'error' && answer.error.code).toBe(4); // TOO_LARGE
    ch.abort(new Error('done'));

    // A well-sized frame whose body is garbage.
    const raw2 = await client.dialProtocol(h.addr, GET_PROTOCOL);
    const ch2 = new _Channel(raw2, AbortSignal.timeout(10_000), 5_000, 'test');
    await ch2.writeRaw(_encodeFrame(Uint8Array.of(1, 2, 3, 4, 5, 6, 7)));
    await ch2.closeWrite();
    const answer2 = decodeGetResponse(await ch2.readFrame(4096));
    expect(answer2.type === 'error' && answer2.error.code).toBe(5); // MALFORMED

    // An audit with a wrong-length nonce.
    const raw3 = await client.dialProtocol(h.addr, AUDIT_PROTOCOL);
    const ch3 = new _Channel(raw3, AbortSignal.timeout(10_000), 5_000, 'test');
    await ch3.writeRaw(_encodeFrame(Uint8Array.of(32, ...shard.root, 3, 1, 2, 3, 1, 0)));
    await ch3.closeWrite();
    expect((await ch3.readFrame(4096))[0]).toBe(2); // an error answer

    const range = await getRange(client, h.addr, { root: shard.root, offset: 0, length: 10 });
    expect(range).toEqual(shard.bytes.subarray(0, 10));
  });

  it('honours the caller’s signal', async () => {
    const controller = new AbortController();
    const pending = getRange(
      client,
      h.addr,
      { root: shard.root, offset: 0, length: 4 * MiB },
      { signal: controller.signal },
    );
    controller.abort();
    expect((await errorOf(pending)).name).toBe('AbortError');
  });
});

describe('createCairnNode', () => {
  it('derives its identity from a 32-byte Ed25519 seed', async () => {
    const seed = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const a = await createCairnNode({ privateKey: seed, start: false });
    const b = await createCairnNode({ privateKey: seed, start: false });
    expect(a.peerId.toString()).toBe(b.peerId.toString());
    expect(a.peerId.type).toBe('Ed25519');
    const err = await errorOf(createCairnNode({ privateKey: new Uint8Array(31), start: false }));
    expect(err.name).toBe('RangeError');
  });
});

describe('several hosts, restarts', () => {
  it('puts to three hosts at once (WebRTC dials queued, transfers in parallel)', async () => {
    const hosts = await Promise.all([host(), host(), host()]);
    const client = await node(false);
    const shards = hosts.map(() => makeShard(600_000));
    const receipts = await Promise.all(
      hosts.map((h, i) =>
        putShard(client, h.addr, shards[i]!.bytes, { root: shards[i]!.root, size: 600_000 }),
      ),
    );
    receipts.forEach((r, i) => expect(r.host).toBe(hosts[i]!.node.peerId.toString()));
    const direct = client.libp2p
      .getConnections()
      .filter((c) => c.limits == null && c.remoteAddr.toString().includes('/webrtc'));
    expect(direct.length).toBe(3);
  });

  it('a host restarted over the same store serves proofs from the stored tree levels', async () => {
    const h = await host();
    const client = await node(false);
    const shard = makeShard(1_500_000);
    await putShard(client, h.addr, shard.bytes, { root: shard.root, size: 1_500_000 });
    await h.service.stop();
    const again = new HostService(h.node, {
      store: h.store,
      privateKey: h.node.privateKey,
    });
    await again.start();
    const piece = await getPiece(client, h.addr, {
      root: shard.root,
      shardSize: 1_500_000,
      index: 5,
      pieceSize: PIECE,
    });
    expect(piece.bytes).toEqual(shard.bytes.subarray(5 * PIECE));
    await audit(client, h.addr, { root: shard.root, size: 1_500_000, count: 4 });

    // A shard whose tree sidecar was lost is taken again on the next put.
    await again.stop();
    await h.store.delete(await treeIdOf(_toHex(shard.root)));
    const third = new HostService(h.node, {
      store: h.store,
      privateKey: h.node.privateKey,
    });
    await third.start();
    const missing = await errorOf(
      getRange(client, h.addr, { root: shard.root, offset: 0, length: 1 }),
    );
    expect(missing.name).toBe('ShardNotFoundError');
    await putShard(client, h.addr, shard.bytes, { root: shard.root, size: 1_500_000 });
    expect(third.traffic().get(client.peerId.toString())?.bytesReceived).toBe(1_500_000);
    await audit(client, h.addr, { root: shard.root, size: 1_500_000, count: 4 });
  });
});

describe('paid hosting hooks: admission and quotes', () => {
  it('takes only the puts its admit hook accepts, before any byte flows', async () => {
    const enc = new TextEncoder();
    const h = await host(64 * MiB, undefined, {
      admit: async (put) => {
        if (new TextDecoder().decode(put.deal) !== `paid:${put.id}`)
          throw new PutRefusedError(`no funded deal for ${put.id}`);
      },
    });
    const client = await node(false);
    const shard = makeShard(600_000);
    let sent = 0;
    const err = await errorOf(
      putShard(client, h.addr, shard.bytes, {
        root: shard.root,
        size: 600_000,
        onProgress: (n) => (sent = n),
      }),
    );
    expect(err).toBeInstanceOf(PutRefusedError);
    expect(err.message).toMatch(/no funded deal/);
    expect(sent).toBe(0);
    expect((await h.store.usage()).used).toBe(0);
    const receipt = await putShard(client, h.addr, shard.bytes, {
      root: shard.root,
      size: 600_000,
      deal: enc.encode(`paid:${_toHex(shard.root)}`),
    });
    expect(receipt.size).toBe(600_000);
  });

  it('answers quotes through its quoter, passes refusals on, and bounds the sizes', async () => {
    const h = await host(64 * MiB, undefined, {
      quoter: async (terms, peer) => {
        if (terms[0] === 0) throw new PutRefusedError('not at that price');
        return new Uint8Array([...terms].reverse().concat([peer.length]));
      },
    });
    const client = await node(false);
    const quote = await requestQuote(client, h.addr, new Uint8Array([1, 2, 3]));
    expect([...quote]).toEqual([3, 2, 1, client.peerId.toString().length]);
    const refused = await errorOf(requestQuote(client, h.addr, new Uint8Array([0])));
    expect(refused).toBeInstanceOf(PutRefusedError);
    await expect(requestQuote(client, h.addr, new Uint8Array(5000))).rejects.toBeInstanceOf(
      RangeError,
    );
    // A host that sells nothing does not speak the protocol at all.
    const plain = await host();
    const none = await errorOf(requestQuote(client, plain.addr, new Uint8Array([1])));
    expect(none.name).toMatch(/UnsupportedProtocol|Protocol/);
  });
});

describe('hosts that refuse or stall', () => {
  it('a full host refuses before any shard byte flows', async () => {
    const t0 = performance.now();
    const small = await host(1 * MiB);
    console.info(`host ready in ${(performance.now() - t0).toFixed(0)} ms`);
    const client = await node(false);
    const shard = makeShard(2 * MiB);
    let sent = 0;
    const err = await errorOf(
      putShard(client, small.addr, shard.bytes, {
        root: shard.root,
        size: shard.bytes.byteLength,
        onProgress: (n) => (sent = n),
      }),
    );
    expect(err.name).toBe('QuotaExceededError');
    expect(sent).toBe(0);
    expect(small.service.traffic().get(client.peerId.toString())?.bytesReceived ?? 0).toBe(0);
    expect((await small.store.usage()).used).toBe(0);
  });

  it('a stalled host times out with TimeoutError', async () => {
    const stalled = await node();
    await stalled.handle(GET_PROTOCOL, () => {
      // reads nothing, answers nothing
    });
    const addr = await stalled.waitForMultiaddr(isWebRTCAddress);
    const client = await node(false);
    const root = new Uint8Array(32);
    const err = await errorOf(
      getRange(client, addr, { root, offset: 0, length: 1 }, { idleTimeoutMs: 500 }),
    );
    expect(err.name).toBe('TimeoutError');
  });

  it('a host drops a client that stalls mid-put, keeping nothing', async () => {
    const h = await host(64 * MiB, 500);
    const client = await node(false);
    const shard = makeShard(200_000);
    const raw = await client.dialProtocol(h.addr, PUT_PROTOCOL);
    const ch = new _Channel(raw, AbortSignal.timeout(10_000), 5_000, 'test');
    await ch.writeFrame(
      encodePutRequest({
        root: shard.root,
        size: shard.bytes.byteLength,
        leafSize: 1024,
        deal: new Uint8Array(0),
      }),
    );
    expect(decodePutResponse(await ch.readFrame(4096)).type).toBe('accepted');
    await ch.writeRaw(shard.bytes.subarray(0, 50_000));
    // ...and nothing more. The host gives up after its idle timeout and answers TIMEOUT.
    const answer = decodePutResponse(await ch.readFrame(4096));
    expect(answer.type === 'error' && answer.error.code).toBe(7);
    expect(await h.store.has(_toHex(shard.root))).toBe(false);
    expect((await h.service.usage()).reserved).toBe(0);
  });
});

function* chunks(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size);
}
