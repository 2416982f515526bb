/**
 * Off-chain audits: free, frequent challenges of hosts over libp2p, fed into a `ScoreKeeper`.
 * Each target is audited about every `intervalMs` (± `jitter`), a few at a time, each audit
 * bounded by `timeoutMs`. A target with known shards gets a storage audit of one of them, picked
 * at random (fresh 32-byte nonce, random leaves, proofs checked against the root we know and the
 * host's signature: `audit` in `@cairn/peer`); a target without gets a liveness probe (ping),
 * which counts towards uptime and latency but proves nothing about storage.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import type { AbortOptions } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { audit, peerIdText, type CairnNode, type PeerTarget, type StreamOpener } from '@cairn/peer';
import { layoutOfManifest, toHex, type Manifest } from '@cairn/codec';
import type { AuditOutcomeKind, ScoreKeeper } from './scores.ts';
import type { Placement } from './types.ts';

/** A shard a host should hold: its Merkle root (hex or bytes), byte length and leaf size. */
export interface AuditShard {
  root: string | Uint8Array;
  size: number;
  /** @default 1024 (MERKLE_LEAF_SIZE) */
  leafSize?: number;
}

export interface AuditTarget {
  peerId: string;
  /** Where to reach it; without, the auditor's `resolve`, else the peer id alone (an open connection). */
  addrs?: readonly Multiaddr[];
  /** Shards it should hold; none: liveness probes only. */
  shards?: readonly AuditShard[];
}

/** What the auditor needs of a libp2p node. */
export interface AuditorNode extends StreamOpener {
  /** Opens (or reuses) a connection before the timed part of an audit. */
  connect?(peer: PeerTarget, options: AbortOptions): Promise<unknown>;
  /** A round trip to the peer, in ms. */
  ping(peer: PeerTarget, options: AbortOptions): Promise<number>;
}

export interface AuditOutcome {
  peerId: string;
  kind: AuditOutcomeKind;
  /** Storage audit: the root (hex) that was challenged. */
  root?: string;
  /** The audit's or ping's response time, for answers. */
  latencyMs?: number;
  /** Why it did not pass. */
  error?: Error;
  at: number;
}

export interface AuditorInit {
  node: AuditorNode;
  scores: ScoreKeeper;
  /** The hosts to audit; read again every `refreshMs`. */
  targets: () => readonly AuditTarget[] | Promise<readonly AuditTarget[]>;
  /** Addresses of a target that has none. */
  resolve?: (peerId: string, signal: AbortSignal) => Promise<readonly Multiaddr[]>;
  /** Between two audits of one host. @default 5 minutes */
  intervalMs?: number;
  /** Each interval is drawn from intervalMs × (1 ± jitter), so hosts cannot time us. @default 0.2 */
  jitter?: number;
  /** Audits in flight at once. @default 4 */
  concurrency?: number;
  /** One audit or probe, connection included. @default 20 s */
  timeoutMs?: number;
  /** Leaves challenged per storage audit (1..16). @default 4 */
  leaves?: number;
  /** How often `targets` is read. @default min(intervalMs, 1 minute) */
  refreshMs?: number;
  /** Every outcome, after it went into `scores`. */
  onOutcome?: (outcome: AuditOutcome) => void;
  /** `targets` or `onOutcome` threw (the loop goes on). */
  onError?: (err: Error) => void;
}

/**
 * Errors that mean the host answered but did not prove: it lost or altered the shard, or
 * answered with something that is no proof. Everything else (timeouts, resets, dial failures, a
 * peer that no longer speaks the protocol) only says the host was not reachable.
 */
const PROOF_FAILURES = new Set([
  'AuditFailedError',
  'ShardNotFoundError',
  'IntegrityError',
  'BadRootError',
  'HostInternalError',
  'MalformedMessageError',
  'MessageTooLargeError',
  'RemoteProtocolError',
]);

export class Auditor {
  readonly scores: ScoreKeeper;
  readonly intervalMs: number;
  readonly jitter: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly #init: AuditorInit;
  readonly #leaves: number;
  readonly #refreshMs: number;
  #controller: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(init: AuditorInit) {
    this.#init = init;
    this.scores = init.scores;
    this.intervalMs = init.intervalMs ?? 5 * 60_000;
    this.jitter = init.jitter ?? 0.2;
    this.concurrency = init.concurrency ?? 4;
    this.timeoutMs = init.timeoutMs ?? 20_000;
    this.#leaves = init.leaves ?? 4;
    this.#refreshMs = init.refreshMs ?? Math.min(this.intervalMs, 60_000);
    if (!(this.intervalMs > 0)) throw new RangeError('intervalMs must be positive');
    if (!(this.jitter >= 0 && this.jitter < 1)) throw new RangeError('jitter must be in [0, 1)');
    if (!Number.isSafeInteger(this.concurrency) || this.concurrency < 1)
      throw new RangeError('concurrency must be a positive integer');
    if (!(this.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
    if (!Number.isSafeInteger(this.#leaves) || this.#leaves < 1 || this.#leaves > 16)
      throw new RangeError('leaves must be 1..16');
    if (!(this.#refreshMs > 0)) throw new RangeError('refreshMs must be positive');
  }

  get running(): boolean {
    return this.#loop !== undefined;
  }

  /** Starts auditing in the background (until `stop`). */
  start(): void {
    if (this.#loop !== undefined) return;
    const controller = new AbortController();
    this.#controller = controller;
    this.#loop = this.#run(controller.signal);
  }

  /** Aborts the audits in flight (they are not recorded) and resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.#controller?.abort(new Error('auditor stopped'));
    await this.#loop;
    this.#loop = undefined;
    this.#controller = undefined;
  }

  /** Audits each target once, `concurrency` at a time; resolves with the recorded outcomes. */
  async runOnce(targets?: readonly AuditTarget[], signal?: AbortSignal): Promise<AuditOutcome[]> {
    const list = [...(targets ?? (await this.#init.targets()))];
    const out: AuditOutcome[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < list.length && signal?.aborted !== true) {
        const outcome = await this.auditOnce(list[next++]!, signal);
        if (outcome !== undefined) out.push(outcome);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, list.length) }, worker));
    return out;
  }

  /**
   * One audit (or probe) of one target, recorded in `scores`. Resolves undefined, recording
   * nothing, when `signal` aborts it: our own stop says nothing about the host.
   */
  async auditOnce(target: AuditTarget, signal?: AbortSignal): Promise<AuditOutcome | undefined> {
    const op = AbortSignal.any([...(signal ? [signal] : []), AbortSignal.timeout(this.timeoutMs)]);
    const shards = target.shards ?? [];
    const shard = shards.length > 0 ? shards[randomInt(shards.length)] : undefined;
    const root = shard === undefined ? undefined : rootHex(shard.root);
    let kind: AuditOutcomeKind;
    let latencyMs: number | undefined;
    let error: Error | undefined;
    try {
      const peer = await this.#peer(target, op);
      op.throwIfAborted();
      await this.#init.node.connect?.(peer, { signal: op });
      const started = performance.now();
      if (shard !== undefined) {
        await audit(
          this.#init.node,
          peer,
          {
            root: shard.root,
            size: shard.size,
            ...(shard.leafSize === undefined ? {} : { leafSize: shard.leafSize }),
            count: this.#leaves,
          },
          { signal: op },
        );
        kind = 'passed';
        latencyMs = performance.now() - started;
      } else {
        const rtt = await this.#init.node.ping(peer, { signal: op });
        kind = 'answered';
        latencyMs = Number.isFinite(rtt) ? rtt : performance.now() - started;
      }
    } catch (err) {
      if (signal?.aborted === true) return undefined;
      error = err instanceof Error ? err : new Error(String(err));
      kind = shard !== undefined && PROOF_FAILURES.has(error.name) ? 'failed' : 'unreachable';
    }
    const at = Date.now();
    this.scores.record(target.peerId, {
      kind,
      at,
      ...(latencyMs === undefined ? {} : { latencyMs }),
    });
    const outcome: AuditOutcome = {
      peerId: target.peerId,
      kind,
      at,
      ...(root === undefined ? {} : { root }),
      ...(latencyMs === undefined ? {} : { latencyMs }),
      ...(error === undefined ? {} : { error }),
    };
    try {
      this.#init.onOutcome?.(outcome);
    } catch (err) {
      this.#init.onError?.(err as Error);
    }
    return outcome;
  }

  async #peer(target: AuditTarget, signal: AbortSignal): Promise<PeerTarget> {
    if (target.addrs !== undefined && target.addrs.length > 0) return [...target.addrs];
    if (this.#init.resolve !== undefined) {
      const addrs = await this.#init.resolve(target.peerId, signal);
      if (addrs.length > 0) return [...addrs];
    }
    return peerIdFromString(target.peerId);
  }

  /** The next time an audit of a host falls due after one ended now. */
  #nextDue(now: number): number {
    return now + this.intervalMs * (1 + this.jitter * (2 * Math.random() - 1));
  }

  async #run(signal: AbortSignal): Promise<void> {
    const targets = new Map<string, AuditTarget>();
    const due = new Map<string, number>();
    const inFlight = new Map<string, Promise<void>>();
    let refreshedAt = -Infinity;
    let wake: () => void = () => {};

    while (!signal.aborted) {
      let now = Date.now();
      if (now - refreshedAt >= this.#refreshMs) {
        refreshedAt = now;
        try {
          // A slow `targets` (e.g. chain reads) must not hold up `stop`.
          const list = await untilAborted(Promise.resolve(this.#init.targets()), signal);
          if (list === undefined) break;
          const seen = new Set<string>();
          for (const t of list) {
            seen.add(t.peerId);
            targets.set(t.peerId, t);
            // A new host is first audited soon, at a random point of a short window.
            if (!due.has(t.peerId))
              due.set(t.peerId, now + Math.random() * this.jitter * this.intervalMs);
          }
          for (const id of [...targets.keys()]) {
            if (seen.has(id)) continue;
            targets.delete(id);
            due.delete(id);
          }
        } catch (err) {
          this.#init.onError?.(err as Error);
        }
        if (signal.aborted) break;
        now = Date.now();
      }

      const ready = [...due]
        .filter(([id, at]) => at <= now && !inFlight.has(id))
        .sort((a, b) => a[1] - b[1]);
      for (const [id] of ready) {
        if (inFlight.size >= this.concurrency) break;
        const target = targets.get(id)!;
        const task = this.auditOnce(target, signal)
          .catch((err: unknown) => this.#init.onError?.(err as Error))
          .then(() => {
            inFlight.delete(id);
            if (due.has(id)) due.set(id, this.#nextDue(Date.now()));
            wake();
          });
        inFlight.set(id, task);
      }

      // Sleep until the next audit falls due, the targets are read again, a slot frees or stop.
      let next = refreshedAt + this.#refreshMs;
      if (inFlight.size < this.concurrency)
        for (const [id, at] of due) if (!inFlight.has(id) && at < next) next = at;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      await sleep(Math.max(0, next - Date.now()), signal, woken);
    }
    await Promise.allSettled(inFlight.values());
  }
}

/** An `AuditorNode` over a CairnNode: WebRTC dials through its queue, libp2p ping. */
export function cairnAuditorNode(node: CairnNode): AuditorNode {
  return {
    dialProtocol: (peer, protocols, options) => node.dialProtocol(peer, protocols, options),
    connect: (peer, options) => node.dial(peer, options),
    // After `connect`, by peer id: the open direct connection carries the ping.
    ping: (peer, options) => node.libp2p.services.ping.ping(peerIdOrSelf(peer), options),
  };
}

/** What a client should audit after an upload: each holder with the shards it took. */
export function auditTargetsOf(
  manifest: Manifest,
  placements: readonly Placement[],
): AuditTarget[] {
  const { shardSize } = layoutOfManifest(manifest);
  const byHost = new Map<string, AuditShard[]>();
  for (const p of placements) {
    const root = manifest.roots[p.shard];
    if (root === undefined) continue;
    const list = byHost.get(p.host) ?? [];
    list.push({ root: toHex(root), size: shardSize, leafSize: manifest.merkle.leafSize });
    byHost.set(p.host, list);
  }
  return [...byHost].map(([peerId, shards]) => ({ peerId, shards }));
}

function peerIdOrSelf(peer: PeerTarget): PeerTarget {
  const first = Array.isArray(peer) ? peer[0] : peer;
  if (first === undefined || !('getComponents' in first)) return peer;
  const text = peerIdText(first);
  return text === undefined ? peer : peerIdFromString(text);
}

function rootHex(root: string | Uint8Array): string {
  return typeof root === 'string' ? root.toLowerCase() : toHex(root);
}

function randomInt(n: number): number {
  return globalThis.crypto.getRandomValues(new Uint32Array(1))[0]! % n;
}

/** `p`'s value, or undefined as soon as `signal` aborts. */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function sleep(ms: number, signal: AbortSignal, woken: Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    void woken.then(done);
  });
}
