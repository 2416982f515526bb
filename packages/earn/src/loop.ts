// The machinery the host daemon and the watcher share: options, a polling loop that never
// overlaps itself and stops promptly, bounded and retried reads, the market's log scan in chunks
// from a persisted cursor, and the persisted state blob.
import {
  storageMarketAbi,
  type CairnChainConfig,
  type ChainReader,
  type ChainSigner,
} from '@cairn/contracts';
import type { Address, GetContractEventsReturnType, Hex } from 'viem';
import { MemoryState, type StateStore } from './state.ts';
import {
  JSON_BIGINT,
  StoppedError,
  describeError,
  resolveRetry,
  retry,
  sleep,
  type ResolvedRetry,
  type RetryOptions,
} from './util.ts';

/** One decoded market event as the scan yields it. */
export type MarketLog = GetContractEventsReturnType<
  typeof storageMarketAbi,
  undefined,
  true
>[number];

/** What the loops remember of a deal (from its DealOpened event). */
export interface DealInfo {
  id: bigint;
  host: Address;
  client: Address;
  root: Hex;
  size: bigint;
  leafCount: bigint;
  leafSize: number;
  /** first period of the deal */
  start: bigint;
  /** periods */
  duration: number;
  price: bigint;
  collateral: bigint;
}

export function dealFromLog(log: MarketLog & { eventName: 'DealOpened' }): DealInfo {
  const a = log.args;
  return {
    id: a.dealId,
    host: a.host,
    client: a.client,
    root: a.root,
    size: a.size,
    leafCount: a.leafCount,
    leafSize: a.leafSize,
    start: a.startPeriod,
    duration: a.duration,
    price: a.price,
    collateral: a.collateral,
  };
}

/** Options common to HostDaemon and Watcher. */
export interface LoopOptions {
  /** reads (may be the signer itself) */
  reader: ChainReader;
  /** sends this loop's transactions */
  signer: ChainSigner;
  /** the deployment (its market, chain id and deploy block); default: the signer's */
  config?: CairnChainConfig;
  /** cursors and small records; default: in memory (lost on reload: a rescan from deployBlock) */
  state?: StateStore;
  /** ms between polls of the chain head @default a twentieth of a period, within 250..2000 ms */
  pollIntervalMs?: number;
  /** blocks per `eth_getLogs` request @default 5000 */
  logChunkBlocks?: number;
  /** scan only blocks this far behind the head (reorg safety) @default 0 */
  confirmations?: number;
  /** reads: attempts, backoff and per-attempt timeout */
  retry?: RetryOptions;
  /** a transaction (simulate, sign, send, receipt) must be mined within this @default 120000 */
  txTimeoutMs?: number;
  /** reads in flight at once (challenges, deals) @default 8 */
  readConcurrency?: number;
}

/** The events both loops report the same way. */
export type LoopEvent =
  | { type: 'started'; account: Hex; deals: number; cursor: bigint }
  | { type: 'error'; where: string; message: string; error: unknown };

export abstract class ChainLoop<S extends { cursor: bigint }, E extends { type: string }> {
  protected readonly reader: ChainReader;
  protected readonly signer: ChainSigner;
  protected readonly config: CairnChainConfig;
  protected readonly store: StateStore;
  protected readonly pollIntervalMs: number;
  protected readonly logChunkBlocks: bigint;
  protected readonly confirmations: bigint;
  protected readonly retryOptions: ResolvedRetry;
  protected readonly txTimeoutMs: number;
  protected readonly readConcurrency: number;
  protected st!: S;
  protected lastError: string | undefined;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  #stateKey: string;
  readonly #onEvent: (e: E | LoopEvent) => void;

  constructor(
    kind: string,
    options: LoopOptions & { onEvent?: ((e: E | LoopEvent) => void) | undefined },
  ) {
    this.#onEvent = options.onEvent ?? (() => {});
    this.reader = options.reader;
    this.signer = options.signer;
    this.config = options.config ?? options.signer.config;
    const s = options.signer.config;
    if (
      this.config.chainId !== s.chainId ||
      this.config.market.toLowerCase() !== s.market.toLowerCase() ||
      this.config.chainId !== options.reader.config.chainId ||
      this.config.market.toLowerCase() !== options.reader.config.market.toLowerCase()
    )
      throw new TypeError('reader, signer and config must name the same chain and market');
    this.store = options.state ?? new MemoryState();
    this.pollIntervalMs =
      options.pollIntervalMs ??
      Math.min(2000, Math.max(250, (this.config.periodSeconds * 1000) / 20));
    this.logChunkBlocks = BigInt(options.logChunkBlocks ?? 5000);
    this.confirmations = BigInt(options.confirmations ?? 0);
    this.retryOptions = resolveRetry(options.retry);
    this.txTimeoutMs = options.txTimeoutMs ?? 120_000;
    this.readConcurrency = options.readConcurrency ?? 8;
    this.#stateKey = `${kind}:${this.config.chainId}:${this.config.market.toLowerCase()}:${this.signer.account.toLowerCase()}`;
  }

  protected abstract initialState(): S;
  /** One pass: scan, then act. Errors are reported by the loop, which polls again. */
  protected abstract tick(): Promise<void>;
  /** Deals this loop follows now (for the `started` event). */
  protected abstract liveDealCount(): number;

  /** Hands an event to `onEvent`; a listener that throws never stops the loop. */
  protected emit(e: E | LoopEvent): void {
    try {
      this.#onEvent(e);
    } catch {
      // a listener's failure must not stop the loop
    }
  }

  protected reportError(where: string, error: unknown): void {
    this.emit({ type: 'error', where, message: describeError(error), error });
  }

  protected onStarted(): void {
    this.emit({
      type: 'started',
      account: this.signer.account,
      deals: this.liveDealCount(),
      cursor: this.st.cursor,
    });
  }

  get running(): boolean {
    return this.#loop !== undefined;
  }

  protected get signal(): AbortSignal | undefined {
    return this.#abort?.signal;
  }

  /**
   * Loads the state, then catches up with the chain (scans the market's events since the cursor
   * and acts on the current period) before resolving; then keeps polling until `stop()`. Errors
   * of that first pass are reported (onEvent 'error'), not thrown.
   */
  async start(): Promise<void> {
    if (this.#loop) return;
    this.#abort = new AbortController();
    await this.#loadState();
    const first = this.#pass();
    this.#loop = first.then(() => this.#run());
    this.onStarted();
    await first;
  }

  /** Stops polling; resolves once the pass in progress has finished (every wait is bounded). */
  async stop(): Promise<void> {
    this.#abort?.abort();
    await this.#loop;
    this.#loop = undefined;
  }

  async #run(): Promise<void> {
    const signal = this.#abort!.signal;
    while (!signal.aborted) {
      try {
        await sleep(this.pollIntervalMs, signal);
      } catch {
        return;
      }
      await this.#pass();
    }
  }

  async #pass(): Promise<void> {
    try {
      await this.tick();
      this.lastError = undefined;
    } catch (err) {
      if (err instanceof StoppedError) return;
      this.lastError = describeError(err);
      this.reportError('poll', err);
    }
  }

  async #loadState(): Promise<void> {
    const text = await this.store.get(this.#stateKey);
    this.st = text ? JSON_BIGINT.parse<S>(text) : this.initialState();
  }

  protected async saveState(): Promise<void> {
    await this.store.set(this.#stateKey, JSON_BIGINT.stringify(this.st));
  }

  /** A read with retries, backoff and a per-attempt timeout. */
  protected read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return retry(what, fn, this.retryOptions, this.signal);
  }

  /** The head block this loop may scan to (head minus confirmations). */
  protected async safeHead(): Promise<bigint> {
    const head = await this.read('eth_blockNumber', () =>
      this.reader.publicClient.getBlockNumber({ cacheTime: 0 }),
    );
    return head - this.confirmations;
  }

  /**
   * Scans the market's events from the cursor to `to`, a chunk at a time; `handle` sees every log
   * of a chunk in order, then the cursor moves past it and the state is saved.
   */
  protected async scan(to: bigint, handle: (logs: MarketLog[]) => void): Promise<void> {
    while (this.st.cursor < to) {
      if (this.signal?.aborted) throw new StoppedError();
      const from = this.st.cursor + 1n;
      const end = from + this.logChunkBlocks - 1n < to ? from + this.logChunkBlocks - 1n : to;
      const logs = await this.read('eth_getLogs', () =>
        this.reader.publicClient.getContractEvents({
          address: this.config.market,
          abi: storageMarketAbi,
          fromBlock: from,
          toBlock: end,
          strict: true,
        }),
      );
      handle(logs as MarketLog[]);
      this.st.cursor = end;
      await this.saveState();
    }
  }
}
