/**
 * WebRTC dials, a few at a time per node, each attempt with its own timeout, a failed attempt
 * retried. Dials once ran strictly one at a time because several in flight "stalled" ("wait for
 * init channel to open"); the stall was a DTLS handshake that node-datachannel fails when the
 * answerer's certificate arrives before the offerer has applied the answer (more likely with more
 * dials in flight), after which libp2p waited out its dial timeout. `node.ts` makes that failure
 * immediate in Node, so a retry follows at once and dials can overlap.
 */
import { TimeoutError } from './errors.ts';
import { _abortReason } from './channel.ts';

export interface DialQueueInit {
  /** WebRTC dials in flight at once per node. @default 6 */
  concurrency?: number;
  /** Per attempt (libp2p also gives up on one address after 6 s). @default 20_000 */
  attemptTimeoutMs?: number;
  /** Further attempts after a failed one. @default 3 */
  retries?: number;
  /** Pause before a retry. @default 250 */
  retryDelayMs?: number;
}

export const DEFAULT_DIAL_CONCURRENCY = 16;

export class _DialQueue {
  readonly #attemptTimeoutMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #concurrency: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  /** Dials waiting or running. */
  pending = 0;

  constructor(init: DialQueueInit = {}) {
    this.#attemptTimeoutMs = init.attemptTimeoutMs ?? 20_000;
    this.#retries = init.retries ?? 3;
    this.#retryDelayMs = init.retryDelayMs ?? 250;
    this.#concurrency = Math.max(1, Math.floor(init.concurrency ?? DEFAULT_DIAL_CONCURRENCY));
  }

  /** Resolves when a slot is free (first come, first served). */
  async #acquire(signal?: AbortSignal): Promise<void> {
    if (this.#running < this.#concurrency && this.#waiting.length === 0) {
      this.#running++;
      return;
    }
    let wake!: () => void;
    const slot = new Promise<void>((resolve) => (wake = resolve));
    const entry = () => {
      this.#running++;
      wake();
    };
    this.#waiting.push(entry);
    try {
      await waitOrAbort(slot, signal);
    } catch (err) {
      const at = this.#waiting.indexOf(entry);
      if (at >= 0) this.#waiting.splice(at, 1);
      else this.#release(); // the slot was handed over just as the wait was aborted
      throw err;
    }
  }

  #release(): void {
    this.#running--;
    if (this.#running < this.#concurrency) this.#waiting.shift()?.();
  }

  /** Runs `attempt` once a slot is free, retrying on failure. */
  async run<T>(attempt: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.pending++;
    let acquired = false;
    try {
      await this.#acquire(signal);
      acquired = true;
      let lastError: unknown;
      for (let i = 0; i <= this.#retries; i++) {
        if (signal?.aborted === true) throw _abortReason(signal, 'dial');
        const timeout = AbortSignal.timeout(this.#attemptTimeoutMs);
        const attemptSignal = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
        try {
          // Raced against the signal too: an attempt that ignores its signal cannot hold the queue.
          return await raceSignal(attempt(attemptSignal), attemptSignal);
        } catch (err) {
          if (isAborted(signal)) throw _abortReason(signal!, 'dial');
          lastError = timeout.aborted
            ? new TimeoutError(`WebRTC dial attempt timed out after ${this.#attemptTimeoutMs} ms`, {
                cause: err,
              })
            : err;
          if (i < this.#retries) await new Promise((r) => setTimeout(r, this.#retryDelayMs));
        }
      }
      throw lastError;
    } finally {
      this.pending--;
      if (acquired) this.#release();
    }
  }
}

/** One dial at a time (the old behaviour; `concurrency: 1`). */
export class _SerialDialQueue extends _DialQueue {
  constructor(init: DialQueueInit = {}) {
    super({ ...init, concurrency: 1 });
  }
}

async function waitOrAbort(p: Promise<unknown>, signal?: AbortSignal): Promise<void> {
  if (signal === undefined) {
    await p.catch(() => {});
    return;
  }
  if (signal.aborted) throw _abortReason(signal, 'dial');
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(_abortReason(signal, 'dial'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([p.catch(() => {}), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

async function raceSignal<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(_abortReason(signal, 'dial'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
