/** One upload or download as the UI shows it: phase, overall fraction, speed and time left. */
export type TransferStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

let nextId = 1;

export class Transfer {
  readonly id = nextId++;
  readonly kind: 'upload' | 'download';
  readonly name: string;
  readonly size: number;
  readonly controller = new AbortController();
  status = $state<TransferStatus>('queued');
  phase = $state('Waiting');
  /** 0..1 of the whole job. */
  fraction = $state(0);
  /** Bytes per second, over the last few seconds. */
  speed = $state(0);
  /** Seconds left at the current speed; null while unknown. */
  eta = $state<number | null>(null);
  error = $state<string | null>(null);
  /** What the job produced (an upload's link...). */
  result = $state<string | null>(null);

  #samples: { t: number; work: number }[] = [];
  #lastPaint = 0;

  constructor(kind: 'upload' | 'download', name: string, size: number) {
    this.kind = kind;
    this.name = name;
    this.size = size;
  }

  /**
   * `work` units done of `total` (an upload counts both passes over the file, so 2 x size).
   * Repaints at most ten times a second.
   */
  report(phase: string, work: number, total: number): void {
    const now = performance.now();
    this.#samples.push({ t: now, work });
    while (this.#samples.length > 2 && now - this.#samples[0]!.t > 4000) this.#samples.shift();
    if (now - this.#lastPaint < 100 && work < total) return;
    this.#lastPaint = now;
    this.phase = phase;
    this.fraction = total > 0 ? Math.min(1, work / total) : 0;
    const first = this.#samples[0]!;
    const seconds = (now - first.t) / 1000;
    if (seconds > 0.5) {
      this.speed = (work - first.work) / seconds;
      this.eta = this.speed > 0 ? (total - work) / this.speed : null;
    }
  }

  finish(result?: string): void {
    this.status = 'done';
    this.fraction = 1;
    this.eta = 0;
    this.phase = 'Done';
    if (result !== undefined) this.result = result;
  }

  fail(err: unknown): void {
    if (this.controller.signal.aborted) {
      this.status = 'cancelled';
      this.phase = 'Cancelled';
      return;
    }
    this.status = 'failed';
    this.phase = 'Failed';
    this.error = describe(err);
  }

  cancel(): void {
    this.controller.abort(new DOMException('Cancelled', 'AbortError'));
  }
}

/** A sentence for a person, from the errors the packages throw (compared by name). */
export function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; shortMessage?: string } | undefined;
  switch (e?.name) {
    case 'InsufficientBalanceError':
      return `Not enough funds: ${e.message}. On the Wallet page you can get test tokens (local network) or top up.`;
    case 'NotEnoughHostsError':
      return 'Not enough hosts are online to store this file safely. Try again when more hosts are connected.';
    case 'UploadFailedError':
      return `Some hosts failed and no others were left to take their part: ${e.message}`;
    case 'DirectoryUnavailableError':
      return 'The relay’s host directory did not answer. Check your connection.';
    case 'RecordUnavailableError':
      return 'None of the hosts that keep this file answered. They may be offline; try again later.';
    case 'WrongKeyError':
    case 'InvalidShareLinkError':
      return 'This link is damaged or incomplete: check that it was copied whole.';
    case 'NotEnoughPiecesError':
      return 'Too many of this file’s hosts are offline to rebuild it right now.';
    case 'IntegrityError':
      return 'The data that came back did not verify, so nothing was saved.';
    case 'SignatureRejectedError':
      return 'You declined in your wallet.';
    case 'WrongChainError':
      return `Your wallet is on another network. ${e.message}`;
    case 'AbortError':
      return 'Cancelled.';
    default:
      return e?.shortMessage ?? e?.message ?? String(err);
  }
}
