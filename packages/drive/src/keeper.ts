/**
 * The keeper: repairs a drive's files automatically. On a cadence it checks each file and, when
 * fewer than `threshold` shards are healthy (by default the simulation's rule,
 * `repairThresholdFor`), regenerates the lost ones on new hosts and hands the owner the file's
 * new link. A file is never repaired twice at once (one lock per file, across
 * tabs where the browser has Web Locks; on chain a failed slot can be taken over only once), and
 * a repair cut short by a crash is finished or undone the next time: its deals are journaled
 * before any byte is sent, then adopted if their host proves the shard, else ended.
 */
import { layoutOfManifest, toHex } from '@cairn/codec';
import { DealStatus, endDeal, getDeal } from '@cairn/contracts';
import { audit } from '@cairn/peer';
import { DriveError } from './errors.ts';
import type { FileHealth } from './health.ts';
import type { CairnNetwork } from './network.ts';
import { findRepairedShards } from './follow.ts';
import { repairFile, type RepairFileOptions } from './repair.ts';
import { repairThresholdFor } from './redundancy.ts';
import { openLink, publishRecord } from './share.ts';
import type { PlaceInit } from './place.ts';
import type { Placement } from './types.ts';

/** A file the keeper looks after: a stable id of the owner's choosing and its current link. */
export interface KeptFile {
  id: string;
  link: string;
}

/** Small persistent strings (IndexedDB, localStorage, a file): the keeper's journal. */
export interface KeeperStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string | undefined): Promise<void>;
}

export type KeeperEvent =
  | { type: 'checked'; id: string; health: FileHealth }
  | { type: 'repaired'; id: string; link: string; repaired: Placement[]; health: FileHealth }
  | { type: 'resumed'; id: string; link: string; adopted: Placement[]; ended: bigint[] }
  | { type: 'error'; id: string; error: unknown };

export interface KeeperInit extends Omit<RepairFileOptions, 'signal' | 'onDeals'> {
  network: CairnNetwork;
  /** The files to keep (read at every round). */
  files: () => readonly KeptFile[] | Promise<readonly KeptFile[]>;
  /** The owner stores a file's new link (after a repair). */
  onLinkChanged?: (id: string, link: string) => void | Promise<void>;
  onEvent?: (event: KeeperEvent) => void;
  /** Where repairs in progress are journaled. @default in memory (a crash loses the journal) */
  journal?: KeeperStore;
  /** ms between rounds. @default 10 minutes */
  everyMs?: number;
}

interface JournalEntry {
  shard: number;
  host: string;
  dealId: string;
}

/** Another repair of the same file is running (in this tab or another). */
export class RepairBusyError extends DriveError {
  override name = 'RepairBusyError' as const;
}

export class DurabilityKeeper {
  readonly #init: KeeperInit;
  readonly #journal: KeeperStore;
  readonly #busy = new Set<string>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #round: Promise<void> | undefined;
  #stopped = true;
  readonly #stop = new AbortController();

  constructor(init: KeeperInit) {
    this.#init = init;
    const memory = new Map<string, string>();
    this.#journal = init.journal ?? {
      get: async (k) => memory.get(k),
      set: async (k, v) => void (v === undefined ? memory.delete(k) : memory.set(k, v)),
    };
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    const loop = () => {
      this.#round = this.runOnce().finally(() => {
        if (!this.#stopped) this.#timer = setTimeout(loop, this.#init.everyMs ?? 10 * 60_000);
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#stop.abort(new DriveError('the keeper stopped'));
    await this.#round?.catch(() => {});
  }

  /** One round over every file, one file at a time (errors are events, not throws). */
  async runOnce(): Promise<void> {
    for (const file of await this.#init.files()) {
      if (this.#stop.signal.aborted) return;
      await this.keep(file).catch((error: unknown) =>
        this.#init.onEvent?.({ type: 'error', id: file.id, error }),
      );
    }
  }

  /**
   * Checks one file and repairs it if needed; first finishes or undoes a repair of it that was
   * cut short. Resolves with the file's link afterwards. RepairBusyError if one is running.
   */
  async keep(file: KeptFile): Promise<string> {
    return this.#exclusive(file.id, async () => {
      let link = await this.#resume(file);
      const init = this.#init;
      const result = await repairFile(init.network, link, {
        ...init,
        threshold: init.threshold ?? repairThresholdFor,
        signal: this.#stop.signal,
        onDeals: journalDeals(this.#journal, file.id, link),
      });
      init.onEvent?.({ type: 'checked', id: file.id, health: result.health });
      if (result.repaired.length > 0) {
        link = result.link;
        await init.onLinkChanged?.(file.id, link);
        init.onEvent?.({
          type: 'repaired',
          id: file.id,
          link,
          repaired: result.repaired,
          health: result.health,
        });
      }
      await this.#journal.set(journalKey(file.id), undefined);
      return link;
    });
  }

  /**
   * Repairs of this file that its record does not show yet: the journal's (a repair here cut
   * short) and, for paid files, live deals on chain for its roots (e.g. a mediator's repair).
   * Each new shard whose host proves it is adopted; the journal's other deals are ended.
   */
  async #resume(file: KeptFile): Promise<string> {
    const key = journalKey(file.id);
    const raw = await this.#journal.get(key);
    const journaled = raw === undefined ? [] : (JSON.parse(raw) as { deals: JournalEntry[] }).deals;
    const signer = this.#init.paid?.signer;
    if (journaled.length === 0 && !signer) return file.link;
    const { network } = this.#init;
    const opened = await openLink(network, file.link, { signal: this.#stop.signal });
    const onChain = signer
      ? (
          await findRepairedShards(
            signer,
            signer.account,
            opened,
            journaled.map((e) => e.dealId),
          )
        ).map((p) => ({ shard: p.shard, host: p.host, dealId: p.dealId!.toString() }))
      : [];
    if (journaled.length + onChain.length === 0) {
      if (raw !== undefined) await this.#journal.set(key, undefined);
      return file.link;
    }
    const layout = layoutOfManifest(opened.manifest);
    const adopted: Placement[] = [];
    const ended: bigint[] = [];
    const journaledIds = new Set(journaled.map((e) => e.dealId));
    for (const entry of [...journaled, ...onChain]) {
      const dealId = BigInt(entry.dealId);
      const taken = adopted.some((p) => p.shard === entry.shard);
      let proven: boolean;
      try {
        const addrs = await network.addressesOf(entry.host, AbortSignal.timeout(20_000));
        await audit(
          network.node,
          addrs,
          {
            root: toHex(opened.manifest.roots[entry.shard]!),
            size: layout.shardSize,
            leafSize: layout.leafSize,
            count: 2,
          },
          { signal: AbortSignal.timeout(20_000) },
        );
        proven = true;
      } catch {
        proven = false;
      }
      const active = signer
        ? (await getDeal(signer, dealId)).status === DealStatus.Active
        : undefined;
      if (proven && active !== false && !taken) {
        adopted.push({ shard: entry.shard, host: entry.host, dealId });
      } else if (signer && active && journaledIds.has(entry.dealId)) {
        // Only deals of this keeper's own journal are ended: a deal found on chain whose host
        // does not answer now is left to prove itself (or be slashed) on chain.
        await endDeal(signer, dealId);
        ended.push(dealId);
      }
    }
    let link = file.link;
    if (adopted.length > 0) {
      const taken = new Set(adopted.map((p) => p.shard));
      const placements = [...opened.placements.filter((p) => !taken.has(p.shard)), ...adopted];
      const published = await publishRecord(network, {
        sealedManifest: opened.sealedManifest,
        placements: placements.sort((a, b) => a.shard - b.shard),
        fileKey: opened.fileKey,
      });
      link = `${this.#init.baseUrl ?? ''}#${published.fragment}`;
      await this.#init.onLinkChanged?.(file.id, link);
    }
    await this.#journal.set(key, undefined);
    this.#init.onEvent?.({ type: 'resumed', id: file.id, link, adopted, ended });
    return link;
  }

  async #exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    if (this.#busy.has(id)) throw new RepairBusyError(`file ${id} is being repaired already`);
    this.#busy.add(id);
    try {
      const locks = (globalThis.navigator as { locks?: LockManager } | undefined)?.locks;
      if (!locks) return await fn();
      return await locks.request(`cairn-repair:${id}`, { ifAvailable: true }, async (lock) => {
        if (!lock) throw new RepairBusyError(`file ${id} is being repaired in another tab`);
        return fn();
      });
    } finally {
      this.#busy.delete(id);
    }
  }
}

/**
 * The `onDeals` hook that journals a repair's deals of file `id` (whose link is `link`) in
 * `store` before any byte is sent; `DurabilityKeeper` finishes or undoes them after a crash.
 */
export function journalDeals(store: KeeperStore, id: string, link: string): OnDeals {
  const deals: JournalEntry[] = [];
  return async (_pass, targets, ids) => {
    for (const [shard, dealId] of ids)
      deals.push({ shard, host: targets.get(shard)!, dealId: dealId.toString() });
    await store.set(journalKey(id), JSON.stringify({ link, deals }));
  };
}

type OnDeals = NonNullable<PlaceInit['onDeals']>;

function journalKey(id: string): string {
  return `cairn/repair/${id}`;
}
