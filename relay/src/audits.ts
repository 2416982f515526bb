/**
 * The relay audits the hosts of its directory off chain and shares what it saw.
 *
 * Which hosts: those whose record lists a circuit address through this relay, i.e. hosts that
 * hold a reservation here and so keep a direct WebSockets connection to us (the relay has no
 * WebRTC and reaches no one else). Records that arrived by gossip from hosts of other relays are
 * left to those relays. How: a liveness probe (ping) each round; with the chain watcher running,
 * a storage audit instead (fresh nonce, random leaves, checked against the root on chain) of one
 * of the host's live deals, found by the wallet in its record. Results go into a `ScoreKeeper`
 * (persisted to `scoresFile`), the `cairn_relay_audits_total` counter, and to clients on
 * `/cairn/directory/scores/1.0.0`.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Auditor, ScoreKeeper, type AuditOutcome, type AuditShard } from '@cairn/drive';
import { handleScoresProtocol, type Directory } from '@cairn/peer/directory';
import type { Libp2p } from '@libp2p/interface';
import type { Ping } from '@libp2p/ping';
import type { RelayMetrics } from './metrics.ts';

export interface RelayAuditConfig {
  /** Between two audits of one host. @default 5 minutes */
  intervalMs?: number;
  /** Audits in flight at once. @default 8 */
  concurrency?: number;
  /** One audit or ping. @default 20 s */
  timeoutMs?: number;
  /** How often the directory is read for hosts. @default min(intervalMs, 1 minute) */
  refreshMs?: number;
}

/** Shards a host's wallet should hold now (live deals on chain). */
export type ShardsOf = (wallet: string, signal: AbortSignal) => Promise<readonly AuditShard[]>;

export interface RelayAuditsInit {
  node: Libp2p<{ ping: Ping }>;
  directory: Directory;
  metrics: RelayMetrics;
  config: RelayAuditConfig;
  scoresFile?: string;
  /** With a chain: deal shards to audit; without, hosts get liveness probes only. */
  shardsOf?: ShardsOf;
  log(msg: string): void;
}

export interface RelayAudits {
  readonly scores: ScoreKeeper;
  readonly auditor: Auditor;
  stop(): Promise<void>;
}

const SAVE_INTERVAL_MS = 60_000;
const ZERO_WALLET = /^0x0{40}$/i;

export async function startRelayAudits(init: RelayAuditsInit): Promise<RelayAudits> {
  const { node, directory, metrics, log } = init;
  const scores = await loadScores(init.scoresFile, log);
  const self = node.peerId.toString();
  const through = `/p2p/${self}/p2p-circuit`;
  const stopping = new AbortController();

  const auditor = new Auditor({
    node: {
      dialProtocol: (peer, protocols, options) => node.dialProtocol(peer, protocols, options),
      // An open connection is reused; a host that left has no address we can dial.
      connect: (peer, options) => node.dial(peer, options),
      ping: (peer, options) => node.services.ping.ping(peer, options),
    },
    scores,
    intervalMs: init.config.intervalMs ?? 5 * 60_000,
    concurrency: init.config.concurrency ?? 8,
    timeoutMs: init.config.timeoutMs ?? 20_000,
    ...(init.config.refreshMs === undefined ? {} : { refreshMs: init.config.refreshMs }),
    targets: async () => {
      const targets = [];
      for (const record of directory) {
        if (!record.multiaddrs.some((a) => a.includes(through))) continue;
        let shards: readonly AuditShard[] = [];
        if (init.shardsOf !== undefined && !ZERO_WALLET.test(record.wallet)) {
          try {
            shards = await init.shardsOf(record.wallet, stopping.signal);
          } catch (err) {
            log(`audits: deals of ${record.wallet}: ${(err as Error).message}`);
          }
        }
        targets.push({ peerId: record.peerId, shards });
      }
      return targets;
    },
    onOutcome: (o: AuditOutcome) => {
      metrics.audits.inc({
        type: o.root === undefined ? 'liveness' : 'storage',
        result: o.kind === 'answered' ? 'passed' : o.kind,
      });
      if (o.kind === 'failed')
        log(`audit failed: host ${o.peerId}, shard ${o.root}: ${o.error?.message}`);
    },
    onError: (err) => log(`audits: ${err.message}`),
  });

  const protocol = await handleScoresProtocol(node, (peers) =>
    peers.flatMap((p) => scores.evidence(p) ?? []),
  );
  auditor.start();

  let saving = Promise.resolve();
  const save = (): Promise<void> => {
    const file = init.scoresFile;
    if (file === undefined) return saving;
    saving = saving
      .then(async () => {
        await mkdir(dirname(file), { recursive: true, mode: 0o700 });
        const tmp = `${file}.tmp`;
        await writeFile(tmp, JSON.stringify(scores.toJSON()), { mode: 0o600 });
        await rename(tmp, file);
      })
      .catch((err: unknown) => log(`could not save scores: ${(err as Error).message}`));
    return saving;
  };
  const timer = setInterval(() => void save(), SAVE_INTERVAL_MS);
  timer.unref();

  return {
    scores,
    auditor,
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await auditor.stop();
      await protocol.stop().catch(() => {});
      await save();
    },
  };
}

async function loadScores(file: string | undefined, log: (msg: string) => void) {
  if (file === undefined) return new ScoreKeeper();
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      log(`could not read scores ${file}: ${(err as Error).message}; starting afresh`);
    return new ScoreKeeper();
  }
  try {
    return ScoreKeeper.fromJSON(JSON.parse(text));
  } catch (err) {
    log(`scores ${file} are unreadable (${(err as Error).message}); starting afresh`);
    return new ScoreKeeper();
  }
}
