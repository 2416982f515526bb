/**
 * Where a drive's index lives off the device, and how the recovery phrase alone finds it again.
 *
 * Publishing: the sealed index (index-format.ts) is stored like a small shard on a few hosts,
 * each under a deal of its own opened by the drive's account (quote, permit, `openDeals`, then the
 * put names the deal, exactly as a file's shards are paid for). Hosts and the chain see only
 * ciphertext, its Merkle root and its size.
 *
 * Finding: the phrase gives the account; the market's `DealOpened` events are indexed by client,
 * so one log query lists every deal the account opened, with each one's root, size and host. The
 * newest deals whose size fits a sealed index are tried first: the host's peer id comes from its
 * market record, its addresses from the relays' directory, the bytes from the host (checked
 * against the deal's root), and the first that opens under the phrase's index key is the index.
 * No server holds anything that names the drive's files, and nothing new is trusted: the chain
 * already knows which deals an account opened.
 */
import { MERKLE_LEAF_SIZE, padme, toHex, type Layout } from '@cairn/codec';
import {
  endDeal,
  getHost,
  storageMarketAbi,
  type ChainReader,
  type ChainSigner,
} from '@cairn/contracts';
import { paidDeals, recordRoot, type CairnNetwork } from '@cairn/drive';
import type { Address } from 'viem';
import {
  IndexFormatError,
  MAX_INDEX_SIZE,
  looksLikeIndex,
  openIndex,
  type DriveIndex,
} from './index-format.ts';

export interface IndexCopy {
  /** Hex of the sealed index's Merkle root. */
  root: string;
  size: number;
  holders: { host: string; deal?: string }[];
}

const ZERO_WALLET = /^0x0{40}$/i;

/** Stores the sealed index on up to `replicas` hosts (paid when a signer is given). */
export async function publishIndex(
  network: CairnNetwork,
  sealed: Uint8Array,
  options: { signer?: ChainSigner; duration: number; replicas?: number; signal?: AbortSignal },
): Promise<IndexCopy> {
  const signal = options.signal ?? AbortSignal.timeout(120_000);
  const root = recordRoot(sealed);
  const paid = options.signer !== undefined;
  let hosts = (await network.hosts({}, signal)).filter(
    (h) => h.freeCapacity >= sealed.length && paid === !ZERO_WALLET.test(h.wallet ?? ''),
  );
  hosts = (await network.probe(hosts, signal)).sort(
    (a, b) => (a.latencyMs ?? 0) - (b.latencyMs ?? 0),
  );
  const chosen = hosts.slice(0, options.replicas ?? 3);
  if (chosen.length === 0) throw new Error('no host is available to keep the drive index');
  const targets = new Map(chosen.map((h, i) => [i, h.peerId]));
  let deals = new Map<number, Uint8Array>();
  let ids = new Map<number, bigint>();
  if (options.signer) {
    const wallets = new Map(chosen.map((h) => [h.peerId, h.wallet as Address]));
    // The index is one small object replicated: each host's "shard" is the same bytes.
    const opened = await paidDeals({
      signer: options.signer,
      network,
      duration: options.duration,
      wallets,
    })({
      roots: chosen.map(() => root),
      // paidDeals reads only the shard size and leaf size of the layout.
      layout: { shardSize: sealed.length, leafSize: MERKLE_LEAF_SIZE } as Layout,
      targets,
      signal,
    });
    deals = opened.deals;
    ids = opened.ids;
    for (const shard of opened.failed.keys()) targets.delete(shard);
  }
  const results = await Promise.allSettled(
    [...targets].map(async ([i, host]) => {
      const deal = deals.get(i);
      if (paid && deal === undefined) throw new Error('no deal');
      await network.putShard(
        host,
        {
          shardId: toHex(root),
          size: sealed.length,
          leafSize: MERKLE_LEAF_SIZE,
          ...(deal ? { deal } : {}),
        },
        once(sealed),
        { signal },
      );
      const id = ids.get(i);
      return { host, ...(id !== undefined ? { deal: id.toString() } : {}) };
    }),
  );
  const holders = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (holders.length === 0)
    throw new Error('no host took the drive index', {
      cause: new AggregateError(results.map((r) => (r.status === 'rejected' ? r.reason : null))),
    });
  return { root: toHex(root), size: sealed.length, holders };
}

/** Ends the deals of an index copy that a newer one replaced (the unspent escrow comes back). */
export async function retireIndex(signer: ChainSigner, copy: IndexCopy): Promise<void> {
  for (const h of copy.holders)
    if (h.deal !== undefined) await endDeal(signer, BigInt(h.deal)).catch(() => {});
}

/** A size a sealed index can have: header + nonce + tag around a Padmé size of at least 4 KiB. */
export function isIndexSize(size: number): boolean {
  const padded = size - 9 - 12 - 16;
  return padded >= 4096 && size <= MAX_INDEX_SIZE && padme(padded) === padded;
}

/**
 * The newest index the accounts' deals lead to, or undefined when none is found. `onStep`
 * reports progress for the restore screen.
 */
export async function findIndex(
  network: CairnNetwork,
  reader: ChainReader,
  accounts: Address[],
  key: CryptoKey,
  options: { signal?: AbortSignal; onStep?: (message: string) => void; maxTries?: number } = {},
): Promise<{ index: DriveIndex; copy: IndexCopy } | undefined> {
  const signal = options.signal ?? AbortSignal.timeout(120_000);
  const say = options.onStep ?? (() => {});
  say('Looking for your drive’s deals on the chain');
  const logs = (
    await Promise.all(
      accounts.map((client) =>
        reader.publicClient.getContractEvents({
          address: reader.config.market,
          abi: storageMarketAbi,
          eventName: 'DealOpened',
          args: { client },
          fromBlock: BigInt(reader.config.deployBlock),
          strict: true,
        }),
      ),
    )
  ).flat();
  // One group per root (the replicas of one index version), newest deal first.
  const groups = new Map<string, { size: number; deals: { id: bigint; host: Address }[] }>();
  for (const log of logs.sort((a, b) => (a.args.dealId > b.args.dealId ? -1 : 1))) {
    const size = Number(log.args.size);
    if (!isIndexSize(size)) continue;
    const g = groups.get(log.args.root) ?? { size, deals: [] };
    g.deals.push({ id: log.args.dealId, host: log.args.host });
    groups.set(log.args.root, g);
  }
  say(`Found ${logs.length} deal(s); ${groups.size} could hold the drive index`);
  let tries = 0;
  for (const [rootHex, group] of groups) {
    if (tries++ >= (options.maxTries ?? 8)) break;
    const root = hexBytes(rootHex);
    const peers = await Promise.all(
      group.deals.map(async (d) => {
        const record = await getHost(reader, d.host);
        return { ...d, peer: new TextDecoder().decode(hexBytes(record.peerId)) };
      }),
    );
    await network
      .locate(
        peers.map((p) => p.peer),
        signal,
      )
      .catch(() => {});
    for (const p of peers) {
      try {
        say('Fetching the drive index from a host');
        const bytes = await network.getSmall(p.peer, root, group.size, signal);
        if (toHex(recordRoot(bytes)) !== rootHex.slice(2).toLowerCase()) continue;
        if (!looksLikeIndex(bytes)) break; // a file's shard of a similar size: next group
        const index = await openIndex(bytes, key);
        return {
          index,
          copy: {
            root: rootHex.slice(2),
            size: group.size,
            holders: peers.map((q) => ({ host: q.peer, deal: q.id.toString() })),
          },
        };
      } catch (err) {
        if (err instanceof IndexFormatError) break;
        signal.throwIfAborted();
      }
    }
  }
  return undefined;
}

function hexBytes(hex: string): Uint8Array {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  return Uint8Array.from(h.match(/../g) ?? [], (b) => parseInt(b, 16));
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
