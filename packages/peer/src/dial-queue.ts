/**
 * WebRTC dials one at a time per node. Several WebRTC dials in flight from one node stalled on
 * these machines ("wait for init channel to open"; 5-6 of 8 connected), while the same dials made
 * in turn all connected; once connected, transfers run in parallel. Each attempt has its own
 * timeout and a failed attempt is retried.
 */
import { TimeoutError } from './errors.ts';
import { _abortReason } from './channel.ts';

export interface DialQueueInit {
  /** Per attempt (libp2p also gives up on one address after 6 s). @default 20_000 */
  attemptTimeoutMs?: number;
  /** Further attempts after a failed one. @default 3 */
  retries?: number;
  /** Pause before a retry. @default 250 */
  retryDelayMs?: number;
}

export class _SerialDialQueue {
  readonly #attemptTimeoutMs: number;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  #tail: Promise<unknown> = Promise.resolve();
  /** Dials waiting or running. */
  pending = 0;

  constructor(init: DialQueueInit = {}) {
    this.#attemptTimeoutMs = init.attemptTimeoutMs ?? 20_000;
    this.#retries = init.retries ?? 3;
    this.#retryDelayMs = init.retryDelayMs ?? 250;
  }

  /** Runs `attempt` after every earlier dial has settled, retrying on failure. */
  async run<T>(attempt: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const previous = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((resolve) => (release = resolve));
    this.pending++;
    try {
      await waitOrAbort(previous, signal);
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
      release();
    }
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
