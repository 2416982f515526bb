// Waiting, timeouts, retries with backoff, and error classification shared by the host daemon
// and the watcher. Every wait is bounded and every wait stops early when the loop is stopped.
import {
  ContractRevertError,
  InsufficientBalanceError,
  SignatureRejectedError,
  WrongChainError,
} from '@cairn/contracts';

/** Thrown out of waits when the daemon or watcher is stopped. */
export class StoppedError extends Error {
  override readonly name = 'StoppedError';
  constructor() {
    super('stopped');
  }
}

/** A call that did not finish in time. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
  readonly ms: number;
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${ms} ms`);
    this.ms = ms;
  }
}

/** Resolves after `ms`, or rejects with StoppedError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new StoppedError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new StoppedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `promise`, or TimeoutError after `ms` (the underlying call is not cancelled, only abandoned). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * True for errors worth retrying (RPC transport failures, timeouts, node hiccups); false for
 * answers that will not change by asking again: a revert with its reason, a wrong chain, too
 * little balance, a rejected signature, a programming error.
 */
export function isRetryable(err: unknown): boolean {
  return !(
    err instanceof ContractRevertError ||
    err instanceof WrongChainError ||
    err instanceof InsufficientBalanceError ||
    err instanceof SignatureRejectedError ||
    err instanceof StoppedError ||
    err instanceof TypeError ||
    err instanceof RangeError
  );
}

export interface RetryOptions {
  /** attempts in all @default 4 */
  attempts?: number;
  /** first backoff; doubles each time @default 250 */
  baseDelayMs?: number;
  /** @default 5000 */
  maxDelayMs?: number;
  /** per attempt @default 15000 */
  timeoutMs?: number;
}

export type ResolvedRetry = Required<RetryOptions>;

export function resolveRetry(o: RetryOptions = {}): ResolvedRetry {
  return {
    attempts: o.attempts ?? 4,
    baseDelayMs: o.baseDelayMs ?? 250,
    maxDelayMs: o.maxDelayMs ?? 5000,
    timeoutMs: o.timeoutMs ?? 15_000,
  };
}

/**
 * Runs `fn` until it succeeds, retrying retryable errors with exponential backoff (and jitter);
 * each attempt is bounded by `timeoutMs`. Non-retryable errors and the last failure are thrown.
 */
export async function retry<T>(
  what: string,
  fn: () => Promise<T>,
  options: ResolvedRetry,
  signal?: AbortSignal,
  onRetry?: (err: unknown, attempt: number) => void,
): Promise<T> {
  let delay = options.baseDelayMs;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new StoppedError();
    try {
      return await withTimeout(fn(), options.timeoutMs, what);
    } catch (err) {
      if (!isRetryable(err) || attempt >= options.attempts) throw err;
      onRetry?.(err, attempt);
      await sleep(delay * (0.75 + Math.random() / 2), signal);
      delay = Math.min(delay * 2, options.maxDelayMs);
    }
  }
}

/** Maps `items` through `fn` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** A one-line description of an error for reports: a revert's decoded reason, else its message. */
export function describeError(err: unknown): string {
  if (err instanceof ContractRevertError) return err.message;
  if (err instanceof Error) {
    // viem's messages run over many lines (request body, docs link): keep the first.
    const first = err.message.split('\n')[0]!.trim();
    return err.name && err.name !== 'Error' && !first.startsWith(err.name)
      ? `${err.name}: ${first}`
      : first;
  }
  return String(err);
}

/** CPU time of this process in µs (Node), or undefined where no such clock exists (browsers). */
export function cpuMicros(): number | undefined {
  const p = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } })
    .process;
  if (typeof p?.cpuUsage !== 'function') return undefined;
  const u = p.cpuUsage();
  return u.user + u.system;
}

export const JSON_BIGINT = {
  stringify(value: unknown): string {
    return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v));
  },
  parse<T>(text: string): T {
    return JSON.parse(text, (_, v) =>
      typeof v === 'string' && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v,
    ) as T;
  },
};
