// The host daemon: follows the chain for the deals naming this host, answers each period's
// challenges with a leaf and its Merkle path from the host's shard store, and collects what the
// deals earn. The same code runs in a browser tab, the PWA and a headless Node host.
import { encodeProof, fromHex, verifyProof } from '@cairn/codec';
import {
  ContractRevertError,
  DealStatus,
  challengeFor,
  claim,
  currentPeriod,
  eventsOf,
  getDeal,
  marketBalance,
  poke,
  storageMarketAbi,
  submitProof,
  withdraw,
  type CairnReceipt,
} from '@cairn/contracts';
import type { Hex } from 'viem';
import { ChainLoop, dealFromLog, type DealInfo, type LoopOptions, type MarketLog } from './loop.ts';
import { cpuMicros, describeError, mapLimit, withTimeout } from './util.ts';

/**
 * Reads leaf `leafIndex` of the shard whose Merkle root is `rootHex` (64 lowercase hex digits,
 * no 0x: the shard id of `@cairn/peer`'s HostService) and its proof: the sibling hashes bottom-up
 * (codec sha256-v1). The leaf may be shorter than the leaf size (a shard's last leaf); it is
 * zero-padded here. Throws when the shard is missing or unreadable.
 */
export type ProveFn = (
  rootHex: string,
  leafIndex: number,
) => Promise<{ leaf: Uint8Array; proof: readonly Uint8Array[] | Uint8Array }>;

/** Why a proof could not be made or was not accepted. */
export type ProofFailure =
  /** prove() threw (shard missing, unreadable) or timed out */
  | 'prove'
  /** prove() returned a leaf and path that do not hash to the deal's root (corrupt shard) */
  | 'invalid'
  /** the market refused the transaction (reason decoded in `message`) */
  | 'reverted'
  /** the RPC failed or the transaction was not mined in time */
  | 'rpc';

export type HostEvent =
  | { type: 'started'; account: Hex; deals: number; cursor: bigint }
  | { type: 'deal'; dealId: bigint; root: Hex; start: bigint; duration: number; price: bigint }
  | {
      type: 'period';
      period: bigint;
      /** deals whose window includes this period */
      active: number;
      challenged: number;
      /** proven in this period (by this daemon now, or found already proven) */
      proven: number;
      failed: number;
    }
  | { type: 'poked'; period: bigint; gasUsed: bigint }
  | {
      type: 'proof-submitted';
      dealId: bigint;
      period: bigint;
      leafIndex: bigint;
      txHash: Hex;
      gasUsed: bigint;
      /** ms from this daemon seeing the period's seed (challenge visible) to the proof mined */
      latencyMs: number;
      /** blocks from the seed's block to the proof's */
      blocks: bigint | undefined;
      /** ms spent in prove() (store read + path) */
      proveMs: number;
      /** process CPU ms for the proof itself (prove, local check, encoding); Node only */
      proofCpuMs: number | undefined;
      /** process CPU ms for the whole answer (the above plus simulation, signing, RPC); Node only */
      cpuMs: number | undefined;
    }
  | {
      type: 'proof-failed';
      dealId: bigint;
      period: bigint;
      leafIndex: bigint;
      reason: ProofFailure;
      message: string;
      error: unknown;
      /** another attempt follows within the period */
      willRetry: boolean;
    }
  | {
      type: 'missed';
      dealId: bigint;
      period: bigint;
      /** what went wrong on this side: a ProofFailure, or 'offline' when no attempt was recorded */
      cause: ProofFailure | 'offline';
      message: string;
      /** collateral slashed for it (reporter reward + compensation) */
      slashed: bigint;
      /** the deal's misses so far */
      misses: number;
    }
  | {
      type: 'deal-ended';
      dealId: bigint;
      /** the deal's shard root */
      root: Hex;
      reason: 'completed' | 'client-ended' | 'missed' | 'abandoned';
      refund: bigint;
    }
  /** A shard no live deal pays for any more, removed from the store (`startPaidHost`). */
  | { type: 'shard-dropped'; root: Hex; dealId: bigint; bytes: number }
  | { type: 'claimed'; amount: bigint; dealIds: bigint[]; txHash: Hex; gasUsed: bigint }
  | { type: 'withdrawn'; amount: bigint; txHash: Hex }
  | { type: 'error'; where: string; message: string; error: unknown };

export interface HostDaemonOptions extends LoopOptions {
  prove: ProveFn;
  onEvent?: (event: HostEvent) => void;
  /** claim the deals' earnings at least every this many periods (0: never by cadence) @default 24 */
  claimEveryPeriods?: number;
  /** also claim as soon as the estimated unclaimed earnings reach this (token units) */
  claimThreshold?: bigint;
  /** deals per claim transaction @default 100 */
  claimBatch?: number;
  /** withdraw the market balance (refunds, rewards) when it reaches this @default 1n */
  withdrawThreshold?: bigint;
  /** seed a period nobody has seeded (a period without a seed is not paid) @default true */
  poke?: boolean;
  /** attempts per challenged deal and period (prove failures, RPC failures) @default 3 */
  proveAttempts?: number;
  /** a prove() call must finish within this @default 20000 */
  proveTimeoutMs?: number;
}

export interface HostStatus {
  running: boolean;
  account: Hex;
  /** the period last acted on */
  period: bigint | undefined;
  /** last scanned block */
  cursor: bigint;
  /** deals naming this host, not ended */
  liveDeals: number;
  /** proofs of this host's deals accepted on chain (all time, from the chain's events) */
  proofs: number;
  /** misses slashed on chain (all time) */
  misses: number;
  /** collateral slashed for them */
  slashed: bigint;
  /** deal earnings claimed (all time, `Claimed` events) */
  earned: bigint;
  /** tokens withdrawn to the wallet (all time, `Withdrawn` events: earnings + market balance) */
  withdrawn: bigint;
  /** this instance: proofs it sent, failed attempts, gas its transactions used */
  submitted: number;
  failures: number;
  gasUsed: bigint;
  lastError: string | undefined;
}

interface StoredDeal extends DealInfo {
  /** ended on chain; kept until claimed */
  ended?: boolean;
  /** its earnings were collected by the claim that ended it: forgotten once its end is scanned */
  final?: boolean;
}

interface HostState {
  v: 1;
  cursor: bigint;
  deals: StoredDeal[];
  lastClaimPeriod: bigint | null;
  /** last failure per `${dealId}:${period}`, to say why a miss happened (recent periods only) */
  failures: Record<string, { cause: ProofFailure; message: string; period: bigint }>;
  totals: { proofs: number; misses: number; slashed: bigint; earned: bigint; withdrawn: bigint };
}

interface PeriodWork {
  period: bigint;
  /** performance.now() when the seed was first seen */
  seenAt: number | undefined;
  seedBlock: bigint | undefined;
  done: Map<bigint, 'unchallenged' | 'proven' | 'failed' | 'inactive'>;
  attempts: Map<bigint, number>;
  challenged: Set<bigint>;
  reported: boolean;
}

const END_REASONS = ['completed', 'client-ended', 'missed', 'abandoned'] as const;

export class HostDaemon extends ChainLoop<HostState, HostEvent> {
  readonly #prove: ProveFn;
  readonly #claimEvery: bigint;
  readonly #claimThreshold: bigint | undefined;
  readonly #claimBatch: number;
  readonly #withdrawThreshold: bigint;
  readonly #poke: boolean;
  readonly #proveAttempts: number;
  readonly #proveTimeoutMs: number;
  readonly #deals = new Map<bigint, StoredDeal>();
  readonly #seedBlocks = new Map<bigint, bigint>();
  #work: PeriodWork | undefined;
  #loaded = false;
  #session = { submitted: 0, failures: 0, gasUsed: 0n };

  constructor(options: HostDaemonOptions) {
    super('host', options);
    this.#prove = options.prove;
    this.#claimEvery = BigInt(options.claimEveryPeriods ?? 24);
    this.#claimThreshold = options.claimThreshold;
    this.#claimBatch = options.claimBatch ?? 100;
    this.#withdrawThreshold = options.withdrawThreshold ?? 1n;
    this.#poke = options.poke ?? true;
    this.#proveAttempts = options.proveAttempts ?? 3;
    this.#proveTimeoutMs = options.proveTimeoutMs ?? 20_000;
  }

  status(): HostStatus {
    const t = this.st?.totals;
    return {
      running: this.running,
      account: this.signer.account,
      period: this.#work?.period,
      cursor: this.st?.cursor ?? BigInt(this.config.deployBlock) - 1n,
      liveDeals: [...this.#deals.values()].filter((d) => !d.ended && !d.final).length,
      proofs: t?.proofs ?? 0,
      misses: t?.misses ?? 0,
      slashed: t?.slashed ?? 0n,
      earned: t?.earned ?? 0n,
      withdrawn: t?.withdrawn ?? 0n,
      ...this.#session,
      lastError: this.lastError,
    };
  }

  protected initialState(): HostState {
    return {
      v: 1,
      cursor: BigInt(this.config.deployBlock) - 1n,
      deals: [],
      lastClaimPeriod: null,
      failures: {},
      totals: { proofs: 0, misses: 0, slashed: 0n, earned: 0n, withdrawn: 0n },
    };
  }

  /** Ids of the deals for this shard root that have not ended (as far as the chain was read). */
  liveDealsFor(root: Hex): bigint[] {
    const want = root.toLowerCase();
    return [...this.#deals.values()]
      .filter((d) => !d.ended && !d.final && d.root.toLowerCase() === want)
      .map((d) => d.id);
  }

  protected liveDealCount(): number {
    return this.#deals.size;
  }

  #persistDeals(): void {
    this.st.deals = [...this.#deals.values()];
  }

  protected async tick(): Promise<void> {
    if (!this.#loaded) {
      this.#loaded = true;
      for (const d of this.st.deals) this.#deals.set(d.id, d);
    }
    await this.#follow();
    const period = await this.read('currentPeriod', () => currentPeriod(this.reader));
    if (this.#work?.period !== period) this.#work = newWork(period);
    if (this.st.lastClaimPeriod === null) {
      this.st.lastClaimPeriod = period;
      await this.saveState();
    }
    await this.#answer(this.#work);
    await this.#collect(period);
  }

  /** Scans the market's events up to the head: deals, proofs, misses, claims (the totals). */
  async #follow(): Promise<void> {
    const head = await this.safeHead();
    await this.scan(head, (logs) => {
      for (const log of logs) this.#onLog(log);
      this.#persistDeals();
    });
  }

  #onLog(log: MarketLog): void {
    const me = this.signer.account.toLowerCase();
    const t = this.st.totals;
    switch (log.eventName) {
      case 'DealOpened': {
        if (log.args.host.toLowerCase() !== me) return;
        const deal = dealFromLog(log);
        this.#deals.set(deal.id, deal);
        this.emit({
          type: 'deal',
          dealId: deal.id,
          root: deal.root,
          start: deal.start,
          duration: deal.duration,
          price: deal.price,
        });
        return;
      }
      case 'SeedSet':
        this.#seedBlocks.set(log.args.period, log.blockNumber);
        if (this.#seedBlocks.size > 64)
          this.#seedBlocks.delete(this.#seedBlocks.keys().next().value!);
        return;
      case 'ProofAccepted':
        if (this.#deals.has(log.args.dealId)) t.proofs++;
        return;
      case 'Slashed': {
        const deal = this.#deals.get(log.args.dealId);
        if (!deal) return;
        const slashed = log.args.reward + log.args.compensation;
        t.misses++;
        t.slashed += slashed;
        const failure = this.st.failures[`${deal.id}:${log.args.period}`];
        this.emit({
          type: 'missed',
          dealId: deal.id,
          period: log.args.period,
          cause: failure?.cause ?? 'offline',
          message:
            failure?.message ??
            'no proof was sent in that period (the daemon was not running, or did not see the challenge in time)',
          slashed,
          misses: log.args.misses,
        });
        return;
      }
      case 'DealEnded': {
        const deal = this.#deals.get(log.args.dealId);
        if (!deal) return;
        deal.ended = true;
        if (deal.final) this.#deals.delete(deal.id);
        this.emit({
          type: 'deal-ended',
          dealId: deal.id,
          root: deal.root,
          reason: END_REASONS[log.args.reason] ?? 'completed',
          refund: log.args.refund,
        });
        return;
      }
      case 'Claimed':
        if (log.args.host.toLowerCase() === me) t.earned += log.args.amount;
        return;
      case 'Withdrawn':
        if (log.args.account.toLowerCase() === me) t.withdrawn += log.args.amount;
        return;
    }
  }

  // ---------------------------------------------------------------- challenges and proofs

  /** Answers the challenges of `w.period` not yet answered (idempotent across polls and restarts). */
  async #answer(w: PeriodWork): Promise<void> {
    const p = w.period;
    const active = [...this.#deals.values()].filter(
      (d) => !d.ended && !d.final && d.start <= p && p < d.start + BigInt(d.duration),
    );
    const open = active.filter((d) => !w.done.has(d.id));
    if (open.length && w.seenAt === undefined) {
      const seed = await this.read('seeds', () =>
        this.reader.publicClient.readContract({
          address: this.config.market,
          abi: storageMarketAbi,
          functionName: 'seeds',
          args: [p],
        }),
      );
      if (BigInt(seed) === 0n) {
        if (!this.#poke) return; // wait for someone else's transaction to seed it
        const receipt = await this.#tx('poke', () => poke(this.signer));
        w.seedBlock = receipt.blockNumber;
        this.emit({ type: 'poked', period: p, gasUsed: receipt.gasUsed });
      } else {
        w.seedBlock = this.#seedBlocks.get(p);
      }
      w.seenAt = performance.now();
    }
    const challenges = await mapLimit(open, this.readConcurrency, (d) =>
      this.read('challengeFor', () => challengeFor(this.reader, d.id, p)),
    );
    const challenged: { deal: StoredDeal; leafIndex: bigint }[] = [];
    open.forEach((d, i) => {
      const c = challenges[i]!;
      if (!c.seeded) return; // cannot happen once the seed is set
      if (!c.challenged) w.done.set(d.id, 'unchallenged');
      else {
        w.challenged.add(d.id);
        challenged.push({ deal: d, leafIndex: c.leafIndex });
      }
    });
    for (const { deal, leafIndex } of challenged) {
      if (this.signal?.aborted) break;
      await this.#answerOne(w, deal, leafIndex);
    }
    if (challenged.length) await this.saveState();
    if (!w.reported && active.every((d) => w.done.has(d.id))) {
      w.reported = true;
      const count = (k: string) => [...w.done.values()].filter((v) => v === k).length;
      this.emit({
        type: 'period',
        period: p,
        active: active.length,
        challenged: w.challenged.size,
        proven: count('proven'),
        failed: count('failed'),
      });
      this.#pruneFailures(p);
      await this.saveState();
    }
  }

  async #answerOne(w: PeriodWork, deal: StoredDeal, leafIndex: bigint): Promise<void> {
    const p = w.period;
    const onChain = await this.read('getDeal', () => getDeal(this.reader, deal.id));
    if (onChain.status !== DealStatus.Active) return void w.done.set(deal.id, 'inactive');
    if (onChain.lastProof === p + 1n) return void w.done.set(deal.id, 'proven');
    const cpu0 = cpuMicros();
    const t0 = performance.now();
    let leaf: Uint8Array;
    let proof: Uint8Array;
    try {
      const r = await withTimeout(
        this.#prove(deal.root.slice(2).toLowerCase(), Number(leafIndex)),
        this.#proveTimeoutMs,
        'prove',
      );
      leaf = r.leaf;
      const siblings = r.proof instanceof Uint8Array ? null : r.proof;
      proof = siblings ? encodeProof(siblings) : (r.proof as Uint8Array);
    } catch (err) {
      return this.#failed(w, deal, leafIndex, 'prove', `prove failed: ${describeError(err)}`, err);
    }
    const proveMs = performance.now() - t0;
    const ok =
      leaf.length <= deal.leafSize &&
      verifyProof({
        root: fromHex(deal.root.slice(2)),
        leafCount: Number(deal.leafCount),
        index: Number(leafIndex),
        leaf,
        leafSize: deal.leafSize,
        proof: splitProof(proof),
      });
    if (!ok)
      return this.#failed(
        w,
        deal,
        leafIndex,
        'invalid',
        `the stored leaf ${leafIndex} and its path do not match the deal's root (corrupt shard)`,
        undefined,
      );
    let padded = leaf;
    if (leaf.length < deal.leafSize) {
      padded = new Uint8Array(deal.leafSize);
      padded.set(leaf);
    }
    const cpuProof = cpuMicros();
    let receipt: CairnReceipt;
    try {
      receipt = await this.#tx('submitProof', () =>
        submitProof(this.signer, deal.id, padded, proof),
      );
    } catch (err) {
      if (err instanceof ContractRevertError) {
        if (err.reason?.name === 'AlreadyProven') return void w.done.set(deal.id, 'proven');
        return this.#failed(w, deal, leafIndex, 'reverted', describeError(err), err, false);
      }
      // The transaction may have been mined even though we did not see its receipt.
      const again = await this.read('getDeal', () => getDeal(this.reader, deal.id)).catch(
        () => undefined,
      );
      if (again?.lastProof === p + 1n) return void w.done.set(deal.id, 'proven');
      return this.#failed(w, deal, leafIndex, 'rpc', describeError(err), err);
    }
    const cpu1 = cpuMicros();
    w.done.set(deal.id, 'proven');
    this.#session.submitted++;
    this.emit({
      type: 'proof-submitted',
      dealId: deal.id,
      period: p,
      leafIndex,
      txHash: receipt.transactionHash,
      gasUsed: receipt.gasUsed,
      latencyMs: performance.now() - (w.seenAt ?? t0),
      blocks: w.seedBlock === undefined ? undefined : receipt.blockNumber - w.seedBlock,
      proveMs,
      proofCpuMs:
        cpu0 === undefined || cpuProof === undefined ? undefined : (cpuProof - cpu0) / 1000,
      cpuMs: cpu0 === undefined || cpu1 === undefined ? undefined : (cpu1 - cpu0) / 1000,
    });
  }

  #failed(
    w: PeriodWork,
    deal: StoredDeal,
    leafIndex: bigint,
    reason: ProofFailure,
    message: string,
    error: unknown,
    retryable = true,
  ): void {
    const attempts = (w.attempts.get(deal.id) ?? 0) + 1;
    w.attempts.set(deal.id, attempts);
    const willRetry = retryable && attempts < this.#proveAttempts;
    if (!willRetry) w.done.set(deal.id, 'failed');
    this.#session.failures++;
    this.st.failures[`${deal.id}:${w.period}`] = { cause: reason, message, period: w.period };
    this.emit({
      type: 'proof-failed',
      dealId: deal.id,
      period: w.period,
      leafIndex,
      reason,
      message,
      error,
      willRetry,
    });
  }

  #pruneFailures(period: bigint): void {
    for (const [k, v] of Object.entries(this.st.failures))
      if (v.period + 256n < period) delete this.st.failures[k];
  }

  /** A transaction through the contracts' write path, bounded in time; its gas is counted. */
  async #tx(what: string, send: () => Promise<CairnReceipt>): Promise<CairnReceipt> {
    const receipt = await withTimeout(send(), this.txTimeoutMs, what);
    this.#session.gasUsed += receipt.gasUsed;
    return receipt;
  }

  // ---------------------------------------------------------------- earnings

  /** Claims on cadence, at a threshold, or when deals have ended; withdraws the market balance. */
  async #collect(period: bigint): Promise<void> {
    const w = this.#work;
    // Proofs first: collect only once this period's challenges are all handled.
    if (w && !w.reported) return;
    const deals = [...this.#deals.values()];
    const claimable = deals.filter((d) => !d.final && (d.ended || d.start < period));
    const finished = claimable.some((d) => d.ended || d.start + BigInt(d.duration) <= period);
    const last = this.st.lastClaimPeriod ?? period;
    let due =
      claimable.length > 0 &&
      (finished || (this.#claimEvery > 0n && period - last >= this.#claimEvery));
    if (!due && this.#claimThreshold !== undefined && claimable.length) {
      // Optimistic estimate: every closed period since the last claim paid.
      let estimate = 0n;
      for (const d of claimable) {
        const from = d.start > last ? d.start : last;
        const end = d.start + BigInt(d.duration);
        const to = period < end ? period : end;
        if (to > from) estimate += (d.price * (to - from)) / BigInt(d.duration);
      }
      due = estimate >= this.#claimThreshold;
    }
    if (due) {
      for (let i = 0; i < claimable.length; i += this.#claimBatch)
        await this.#claim(claimable.slice(i, i + this.#claimBatch));
      this.st.lastClaimPeriod = period;
      this.#persistDeals();
      await this.saveState();
      return;
    }
    if (period - last >= (this.#claimEvery > 0n ? this.#claimEvery : 1n)) {
      const balance = await this.read('balanceOf', () =>
        marketBalance(this.reader, this.signer.account),
      );
      if (balance >= this.#withdrawThreshold && balance > 0n) {
        const r = await this.#tx('withdraw', () => withdraw(this.signer));
        const amount = eventsOf(r, 'Withdrawn')[0]?.args.amount ?? 0n;
        await this.#follow();
        this.emit({ type: 'withdrawn', amount, txHash: r.transactionHash });
      }
      this.st.lastClaimPeriod = period;
      await this.saveState();
    }
  }

  async #claim(batch: StoredDeal[]): Promise<void> {
    const ids = batch.map((d) => d.id);
    let r: CairnReceipt;
    try {
      r = await this.#tx('claim', () => claim(this.signer, ids));
    } catch (err) {
      if (err instanceof ContractRevertError && err.reason?.name === 'NothingToWithdraw') {
        for (const d of batch) if (d.ended) this.#deals.delete(d.id);
        return;
      }
      throw err;
    }
    for (const d of batch) if (d.ended) this.#deals.delete(d.id);
    // Deals that ended in this very transaction are collected too: forgotten once scanned.
    for (const e of eventsOf(r, 'DealEnded')) {
      const d = this.#deals.get(e.args.dealId);
      if (d) d.final = true;
    }
    // Totals follow the chain: take this transaction's events in before reporting it.
    await this.#follow();
    const claimed = eventsOf(r, 'Claimed')[0]?.args.amount ?? 0n;
    const withdrawn = eventsOf(r, 'Withdrawn')[0]?.args.amount ?? 0n;
    this.emit({
      type: 'claimed',
      amount: claimed,
      dealIds: ids,
      txHash: r.transactionHash,
      gasUsed: r.gasUsed,
    });
    if (withdrawn > 0n)
      this.emit({ type: 'withdrawn', amount: withdrawn, txHash: r.transactionHash });
  }
}

function newWork(period: bigint): PeriodWork {
  return {
    period,
    seenAt: undefined,
    seedBlock: undefined,
    done: new Map(),
    attempts: new Map(),
    challenged: new Set(),
    reported: false,
  };
}

function splitProof(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i + 32 <= bytes.length; i += 32) out.push(bytes.subarray(i, i + 32));
  return bytes.length % 32 === 0 ? out : [];
}
