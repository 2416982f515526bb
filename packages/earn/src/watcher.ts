// The watcher: follows every live deal and, once a challenge window has closed, reports the
// proofs that were missed (`reportMiss`), collecting the reporter's share of the slash. It
// checks before it sends (reads, then the simulation the write path runs), so it never pays gas
// for a report someone else already made; relays run it by default.
import {
  ContractRevertError,
  DealStatus,
  challengeFor,
  currentPeriod,
  eventsOf,
  getDeal,
  marketBalance,
  reportMiss,
  storageMarketAbi,
  withdraw,
  type CairnReceipt,
} from '@cairn/contracts';
import type { Address, Hex } from 'viem';
import { ChainLoop, dealFromLog, type LoopOptions, type MarketLog } from './loop.ts';
import { describeError, mapLimit, withTimeout } from './util.ts';

export type WatcherEvent =
  | { type: 'started'; account: Hex; deals: number; cursor: bigint }
  | {
      type: 'reported';
      dealId: bigint;
      host: Address;
      /** the latest missed period reported (earlier unreported misses settle with it) */
      period: bigint;
      /** misses this report slashed, and this watcher's reward for them */
      misses: number;
      reward: bigint;
      gasUsed: bigint;
      txHash: Hex;
    }
  | {
      type: 'report-skipped';
      dealId: bigint;
      period: bigint;
      reason: 'already-reported' | 'below-min-reward' | 'reverted';
      message: string;
    }
  | {
      type: 'period';
      /** the closed period just checked */
      period: bigint;
      deals: number;
      /** challenged deals that missed, and the reports sent for them */
      missed: number;
      reported: number;
    }
  | { type: 'withdrawn'; amount: bigint; txHash: Hex }
  | { type: 'error'; where: string; message: string; error: unknown };

export interface WatcherOptions extends LoopOptions {
  onEvent?: (event: WatcherEvent) => void;
  /** skip a report whose reward would be below this (token units; weigh it against gas) @default 0n */
  minReward?: bigint;
  /** withdraw rewards once the market balance reaches this @default 1n */
  withdrawThreshold?: bigint;
  /** on catch-up, look back at most this many closed periods per deal @default 64 */
  maxCatchUpPeriods?: number;
}

export interface WatcherStatus {
  running: boolean;
  account: Hex;
  /** the last closed period checked */
  period: bigint | undefined;
  cursor: bigint;
  liveDeals: number;
  /** misses slashed with this account as reporter, and their rewards (all time, from events) */
  reports: number;
  rewards: bigint;
  /** tokens withdrawn by this account (all time) */
  withdrawn: bigint;
  /** this instance: reports sent, gas used */
  sent: number;
  gasUsed: bigint;
  lastError: string | undefined;
}

interface WatchedDeal {
  id: bigint;
  host: Address;
  start: bigint;
  end: bigint;
  /** last period known not to need a report */
  checked: bigint;
}

interface WatcherState {
  v: 1;
  cursor: bigint;
  deals: WatchedDeal[];
  period: bigint | null;
  totals: { reports: number; rewards: bigint; withdrawn: bigint };
}

export class Watcher extends ChainLoop<WatcherState, WatcherEvent> {
  readonly #minReward: bigint;
  readonly #withdrawThreshold: bigint;
  readonly #maxCatchUp: bigint;
  readonly #deals = new Map<bigint, WatchedDeal>();
  #loaded = false;
  #params: { maxMisses: number; reporterBps: number } | undefined;
  #session = { sent: 0, gasUsed: 0n };

  constructor(options: WatcherOptions) {
    super('watcher', options);
    this.#minReward = options.minReward ?? 0n;
    this.#withdrawThreshold = options.withdrawThreshold ?? 1n;
    this.#maxCatchUp = BigInt(options.maxCatchUpPeriods ?? 64);
  }

  status(): WatcherStatus {
    const t = this.st?.totals;
    return {
      running: this.running,
      account: this.signer.account,
      period: this.st?.period ?? undefined,
      cursor: this.st?.cursor ?? BigInt(this.config.deployBlock) - 1n,
      liveDeals: this.#deals.size,
      reports: t?.reports ?? 0,
      rewards: t?.rewards ?? 0n,
      withdrawn: t?.withdrawn ?? 0n,
      ...this.#session,
      lastError: this.lastError,
    };
  }

  /**
   * The live deals it follows (copies): id, host wallet, first period and end period (exclusive).
   * Relays pick deals to audit off chain from here.
   */
  deals(): { id: bigint; host: Address; start: bigint; end: bigint }[] {
    return [...this.#deals.values()].map(({ id, host, start, end }) => ({ id, host, start, end }));
  }

  protected initialState(): WatcherState {
    return {
      v: 1,
      cursor: BigInt(this.config.deployBlock) - 1n,
      deals: [],
      period: null,
      totals: { reports: 0, rewards: 0n, withdrawn: 0n },
    };
  }

  protected liveDealCount(): number {
    return this.#deals.size;
  }

  protected async tick(): Promise<void> {
    if (!this.#loaded) {
      this.#loaded = true;
      for (const d of this.st.deals) this.#deals.set(d.id, d);
    }
    await this.#follow();
    const period = await this.read('currentPeriod', () => currentPeriod(this.reader));
    const closed = period - 1n;
    if (closed < 0n || (this.st.period !== null && this.st.period >= closed)) return;
    await this.#check(closed);
    this.st.period = closed;
    this.st.deals = [...this.#deals.values()];
    await this.saveState();
    await this.#maybeWithdraw();
  }

  /** Scans the market's events up to the head: deals opened and ended, this account's rewards. */
  async #follow(): Promise<void> {
    const head = await this.safeHead();
    await this.scan(head, (logs) => {
      for (const log of logs) this.#onLog(log);
      this.st.deals = [...this.#deals.values()];
    });
  }

  #onLog(log: MarketLog): void {
    const me = this.signer.account.toLowerCase();
    switch (log.eventName) {
      case 'DealOpened': {
        const d = dealFromLog(log);
        this.#deals.set(d.id, {
          id: d.id,
          host: d.host,
          start: d.start,
          end: d.start + BigInt(d.duration),
          checked: d.start - 1n,
        });
        return;
      }
      case 'DealEnded':
        this.#deals.delete(log.args.dealId);
        return;
      case 'Slashed':
        if (log.args.reporter.toLowerCase() === me) {
          this.st.totals.reports++;
          this.st.totals.rewards += log.args.reward;
        }
        return;
      case 'Withdrawn':
        if (log.args.account.toLowerCase() === me) this.st.totals.withdrawn += log.args.amount;
        return;
    }
  }

  /** Looks for misses up to `closed` in every live deal and reports them. */
  async #check(closed: bigint): Promise<void> {
    const deals = [...this.#deals.values()].filter((d) => d.start <= closed);
    // 1. Reads: for each deal, its latest missed and still unsettled period, if any.
    const found = await mapLimit(deals, this.readConcurrency, (d) => this.#latestMiss(d, closed));
    // 2. Reports, one transaction each (the market has no batch report).
    let missed = 0;
    let reported = 0;
    for (let i = 0; i < deals.length; i++) {
      const q = found[i];
      if (q === undefined) continue;
      missed++;
      if (this.signal?.aborted) return;
      if (await this.#report(deals[i]!, q)) reported++;
    }
    // Totals follow the chain: take the reports' events in before saying the period is done.
    if (reported) await this.#follow();
    this.emit({ type: 'period', period: closed, deals: deals.length, missed, reported });
  }

  async #latestMiss(d: WatchedDeal, closed: bigint): Promise<bigint | undefined> {
    const hi = closed < d.end - 1n ? closed : d.end - 1n;
    let lo = d.checked + 1n > d.start ? d.checked + 1n : d.start;
    if (hi - lo + 1n > this.#maxCatchUp) lo = hi - this.#maxCatchUp + 1n;
    let onChain: Awaited<ReturnType<typeof getDeal>> | undefined;
    let miss: bigint | undefined;
    for (let q = hi; q >= lo; q--) {
      const c = await this.read('challengeFor', () => challengeFor(this.reader, d.id, q));
      if (!c.seeded || !c.challenged) continue;
      onChain ??= await this.read('getDeal', () => getDeal(this.reader, d.id));
      if (onChain.status !== DealStatus.Active) {
        this.#deals.delete(d.id);
        return undefined;
      }
      // Settled (someone reported it, or the host's next proof or claim did), or proven: done,
      // and every earlier period is settled too.
      if (onChain.settled > q || onChain.lastProof === q + 1n) break;
      miss = q;
      break;
    }
    if (hi >= d.checked) d.checked = hi;
    if (d.end - 1n <= closed && miss === undefined) this.#deals.delete(d.id);
    return miss;
  }

  async #report(d: WatchedDeal, period: bigint): Promise<boolean> {
    if (this.#minReward > 0n) {
      const reward = await this.#expectedReward(d.id);
      if (reward < this.#minReward) {
        this.emit({
          type: 'report-skipped',
          dealId: d.id,
          period,
          reason: 'below-min-reward',
          message: `reward ${reward} below ${this.#minReward}`,
        });
        return false;
      }
    }
    let r: CairnReceipt;
    try {
      // The write path simulates first: a miss already reported (NoMiss) costs no gas.
      r = await this.#tx('reportMiss', () => reportMiss(this.signer, d.id, period));
    } catch (err) {
      if (err instanceof ContractRevertError) {
        const already = err.reason?.name === 'NoMiss' || err.reason?.name === 'DealNotActive';
        this.emit({
          type: 'report-skipped',
          dealId: d.id,
          period,
          reason: already ? 'already-reported' : 'reverted',
          message: describeError(err),
        });
        return false;
      }
      throw err;
    }
    const mine = eventsOf(r, 'Slashed').filter(
      (e) => e.args.reporter.toLowerCase() === this.signer.account.toLowerCase(),
    );
    this.#session.sent++;
    this.emit({
      type: 'reported',
      dealId: d.id,
      host: d.host,
      period,
      misses: mine.length,
      reward: mine.reduce((s, e) => s + e.args.reward, 0n),
      gasUsed: r.gasUsed,
      txHash: r.transactionHash,
    });
    if (eventsOf(r, 'DealEnded').length) this.#deals.delete(d.id);
    return true;
  }

  async #expectedReward(dealId: bigint): Promise<bigint> {
    this.#params ??= await this.read('params', async () => {
      const read = (functionName: 'maxMisses' | 'reporterBps') =>
        this.reader.publicClient.readContract({
          address: this.config.market,
          abi: storageMarketAbi,
          functionName,
        });
      const [maxMisses, reporterBps] = await Promise.all([read('maxMisses'), read('reporterBps')]);
      return { maxMisses: Number(maxMisses), reporterBps: Number(reporterBps) };
    });
    const d = await this.read('getDeal', () => getDeal(this.reader, dealId));
    const left = BigInt(this.#params.maxMisses - d.misses);
    if (left <= 0n) return 0n;
    return ((d.collateral / left) * BigInt(this.#params.reporterBps)) / 10_000n;
  }

  async #maybeWithdraw(): Promise<void> {
    const balance = await this.read('balanceOf', () =>
      marketBalance(this.reader, this.signer.account),
    );
    if (balance === 0n || balance < this.#withdrawThreshold) return;
    const r = await this.#tx('withdraw', () => withdraw(this.signer));
    const amount = eventsOf(r, 'Withdrawn')[0]?.args.amount ?? 0n;
    await this.#follow();
    this.emit({ type: 'withdrawn', amount, txHash: r.transactionHash });
  }

  async #tx(what: string, send: () => Promise<CairnReceipt>): Promise<CairnReceipt> {
    const receipt = await withTimeout(send(), this.txTimeoutMs, what);
    this.#session.gasUsed += receipt.gasUsed;
    return receipt;
  }
}
