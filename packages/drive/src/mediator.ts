/**
 * The mediator: repairs files for owners whose browsers are closed. An owner delegates a file by
 * handing over its public `ShardSet` and placements (nothing that decrypts anything) and grants
 * the mediator a mandate on chain (a budget and an expiry). When one of the file's deals fails on
 * chain, the mediator regenerates that shard from the others and opens the replacement deal in
 * the owner's name (`openRepairDeals`: paid from the owner's tokens within the budget, the slot's
 * bounty to the owner). The owner's keeper later finds the new deal on chain and adopts it.
 */
import type { ShardSet } from '@cairn/codec';
import { DealStatus, getDeal, type ChainSigner } from '@cairn/contracts';
import type { Address } from 'viem';
import type { CairnNetwork } from './network.ts';
import { repairShards, type RepairShardsOptions } from './repair.ts';
import { repairThresholdFor } from './redundancy.ts';
import type { Placement } from './types.ts';

/** A file an owner delegated: its public shape and where its shards are, with their deals. */
export interface DelegatedFile {
  id: string;
  /** The owner's account (the deals' client). */
  client: Address;
  set: ShardSet;
  placements: Placement[];
}

export type MediatorEvent =
  /**
   * Replacement deals opened, before any byte is sent: the file's placements already name them
   * (persist now). A shard that then never arrives leaves a deal that fails on chain, and a
   * later round repairs that slot: only the owner could end the deal.
   */
  | { type: 'deals-opened'; id: string; client: Address; deals: Placement[] }
  | { type: 'repaired'; id: string; client: Address; repaired: Placement[] }
  | { type: 'error'; id: string; error: unknown };

export interface MediatorInit extends Pick<RepairShardsOptions, 'hedge' | 'prefetch' | 'retries'> {
  network: CairnNetwork;
  /** The mediator's own wallet (pays gas only). */
  signer: ChainSigner;
  /** Periods each repair deal runs. */
  duration: number;
  maxPricePerBytePeriod?: bigint;
  /** The delegated files (read at every round; their placements are updated in place). */
  files: () => readonly DelegatedFile[] | Promise<readonly DelegatedFile[]>;
  onEvent?: (event: MediatorEvent) => void;
  /** ms between rounds. @default 5 minutes */
  everyMs?: number;
  /**
   * Repair when fewer than this many of a file's deals are active, or a rule giving it from k
   * and m. @default repairThresholdFor (the churn simulation's rule, as the owner's keeper uses)
   */
  threshold?: number | ((k: number, m: number) => number);
}

export class Mediator {
  readonly #init: MediatorInit;
  readonly #stop = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #round: Promise<void> | undefined;
  #running = false;

  constructor(init: MediatorInit) {
    this.#init = init;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    const loop = () => {
      this.#round = this.runOnce().finally(() => {
        if (this.#running) this.#timer = setTimeout(loop, this.#init.everyMs ?? 5 * 60_000);
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#stop.abort(new Error('the mediator stopped'));
    await this.#round?.catch(() => {});
  }

  /** One round: every delegated file with a failed deal is repaired (errors become events). */
  async runOnce(): Promise<void> {
    for (const file of await this.#init.files()) {
      if (this.#stop.signal.aborted) return;
      try {
        await this.repair(file);
      } catch (error) {
        this.#init.onEvent?.({ type: 'error', id: file.id, error });
      }
    }
  }

  /**
   * Repairs the file's shards whose deals failed on chain once fewer than the threshold of its
   * deals are active; returns the new placements.
   */
  async repair(file: DelegatedFile): Promise<Placement[]> {
    const { signer } = this.#init;
    const repairOf = new Map<number, bigint>();
    let active = 0;
    for (const p of file.placements) {
      if (p.dealId === undefined) continue;
      const deal = await getDeal(signer, p.dealId);
      if (deal.status === DealStatus.Active) active++;
      if (
        deal.status === DealStatus.Failed &&
        deal.client.toLowerCase() === file.client.toLowerCase()
      )
        repairOf.set(p.shard, p.dealId);
    }
    const rule = this.#init.threshold ?? repairThresholdFor;
    const threshold = typeof rule === 'function' ? rule(file.set.k, file.set.m) : rule;
    if (repairOf.size === 0 || active >= threshold) return [];
    const result = await repairShards(this.#init.network, file.set, file.placements, {
      lost: [...repairOf.keys()],
      signal: this.#stop.signal,
      ...(this.#init.hedge !== undefined ? { hedge: this.#init.hedge } : {}),
      ...(this.#init.prefetch !== undefined ? { prefetch: this.#init.prefetch } : {}),
      ...(this.#init.retries !== undefined ? { retries: this.#init.retries } : {}),
      onDeals: (_pass, targets, ids) => {
        const opened: Placement[] = [];
        for (const [shard, dealId] of ids) {
          // The old slot is taken over: a later pass for this shard could not repair it again.
          repairOf.delete(shard);
          opened.push({ shard, host: targets.get(shard)!, dealId });
        }
        const taken = new Set(opened.map((p) => p.shard));
        file.placements = [...file.placements.filter((p) => !taken.has(p.shard)), ...opened].sort(
          (a, b) => a.shard - b.shard,
        );
        this.#init.onEvent?.({
          type: 'deals-opened',
          id: file.id,
          client: file.client,
          deals: opened,
        });
      },
      paid: {
        signer,
        duration: this.#init.duration,
        onBehalfOf: file.client,
        repairOf,
        ...(this.#init.maxPricePerBytePeriod !== undefined
          ? { maxPricePerBytePeriod: this.#init.maxPricePerBytePeriod }
          : {}),
      },
    });
    file.placements = result.placements;
    this.#init.onEvent?.({
      type: 'repaired',
      id: file.id,
      client: file.client,
      repaired: result.repaired,
    });
    return result.repaired;
  }
}
