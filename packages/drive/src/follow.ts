/**
 * Following repairs on chain: a file's record names the hosts it was stored on, but a repair
 * made elsewhere (by a mediator, another device of the owner's) stores a shard on a new host
 * under a new deal for the same root. With a chain reader, the deals the market holds for the
 * file's roots show where the shards are now, so an old link still downloads after its hosts are
 * gone and the owner's keeper can adopt such repairs into the record.
 */
import { fromHex, toHex, type Manifest } from '@cairn/codec';
import { DealStatus, getDeal, getHost, storageMarketAbi, type ChainReader } from '@cairn/contracts';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Address, Hex } from 'viem';
import type { Placement } from './types.ts';

/**
 * Live deals of `client` for the file's roots that the placements do not name, each assigned to
 * a shard whose recorded deal is no longer active (or that has none): where repairs put them.
 * Deal ids in `exclude` (decimal) are skipped. Shards with equal roots (e.g. k = 1) each take one.
 */
export async function findRepairedShards(
  reader: ChainReader,
  client: Address,
  file: { manifest: Pick<Manifest, 'roots'>; placements: readonly Placement[] },
  exclude: Iterable<string> = [],
  /** Whether each shard's recorded deal is active, where the caller has read it already. */
  known: ReadonlyMap<number, boolean> = new Map(),
): Promise<Placement[]> {
  const skip = new Set([
    ...file.placements.flatMap((p) => (p.dealId === undefined ? [] : [p.dealId.toString()])),
    ...exclude,
  ]);
  const shardsOf = new Map<string, number[]>();
  file.manifest.roots.forEach((r, i) => {
    const key = `0x${toHex(r)}`;
    shardsOf.set(key, [...(shardsOf.get(key) ?? []), i]);
  });
  // A found deal replaces a shard whose recorded deal is no longer live.
  const live = new Map(known);
  const replaceable = async (shard: number): Promise<boolean> => {
    const cached = live.get(shard);
    if (cached !== undefined) return !cached;
    const dealId = file.placements.find((p) => p.shard === shard)?.dealId;
    const alive =
      dealId !== undefined && (await getDeal(reader, dealId)).status === DealStatus.Active;
    live.set(shard, alive);
    return !alive;
  };
  const logs = await reader.publicClient.getContractEvents({
    address: reader.config.market,
    abi: storageMarketAbi,
    eventName: 'DealOpened',
    args: { client },
    fromBlock: BigInt(reader.config.deployBlock),
    strict: true,
  });
  const out: Placement[] = [];
  for (const log of logs) {
    const candidates = shardsOf.get(log.args.root.toLowerCase()) ?? [];
    if (candidates.length === 0 || skip.has(log.args.dealId.toString())) continue;
    if ((await getDeal(reader, log.args.dealId)).status !== DealStatus.Active) continue;
    let shard: number | undefined;
    for (const c of candidates) {
      if (out.some((p) => p.shard === c) || !(await replaceable(c))) continue;
      shard = c;
      break;
    }
    const host = peerIdOfRecord((await getHost(reader, log.args.host)).peerId);
    if (shard !== undefined && host) out.push({ shard, host, dealId: log.args.dealId });
  }
  return out;
}

/**
 * The placements with the shards repaired on chain swapped in: for a download from an old link.
 * Reads the recorded deals (their client is the file's owner); only when one of them is no
 * longer active does it look for repairs. Free files (no deal ids) come back as they are.
 */
export async function followRepairs(
  reader: ChainReader,
  file: { manifest: Pick<Manifest, 'roots'>; placements: readonly Placement[] },
): Promise<Placement[]> {
  const paid = file.placements.filter((p) => p.dealId !== undefined);
  if (paid.length === 0) return [...file.placements];
  const deals = await Promise.all(paid.map((p) => getDeal(reader, p.dealId!)));
  if (deals.every((d) => d.status === DealStatus.Active)) return [...file.placements];
  const active = new Map(paid.map((p, i) => [p.shard, deals[i]!.status === DealStatus.Active]));
  const found = await findRepairedShards(reader, deals[0]!.client, file, [], active);
  const taken = new Set(found.map((p) => p.shard));
  return [...file.placements.filter((p) => !taken.has(p.shard)), ...found].sort(
    (a, b) => a.shard - b.shard,
  );
}

/** The peer id a host registered in the market (its text, as bytes), if it is one. */
export function peerIdOfRecord(hex: Hex): string | undefined {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(fromHex(hex.slice(2)));
    return peerIdFromString(text).toString();
  } catch {
    return undefined;
  }
}
