/**
 * @packageDocumentation
 *
 * The Cairn relay: a Node libp2p server that helps browsers find and reach each other.
 * It runs circuit relay v2 for signalling and connection set-up only (relayed connections stay
 * limited in bytes and time, so shards never flow through it), keeps the host directory and
 * shares it with other relays over gossipsub, audits the hosts that reach it and shares their
 * scores, and serves the built app over HTTP with `/healthz` and `/metrics`.
 *
 * @example
 * ```ts
 * const relay = await startRelay({ httpPort: 0, listen: ['/ip4/127.0.0.1/tcp/0/ws'] })
 * console.log(relay.multiaddrs, relay.httpUrl)
 * await relay.stop()
 * ```
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import {
  RELAY_V2_HOP_CODEC,
  RELAY_V2_STOP_CODEC,
  circuitRelayServer,
} from '@libp2p/circuit-relay-v2';
import type { CircuitRelayService } from '@libp2p/circuit-relay-v2';
import { gossipsub } from '@libp2p/gossipsub';
import type { GossipSub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { Identify } from '@libp2p/identify';
import type {
  Libp2p,
  MultiaddrConnection,
  PrivateKey,
  Stream,
  StreamMessageEvent,
} from '@libp2p/interface';
import { ping } from '@libp2p/ping';
import type { Ping } from '@libp2p/ping';
import { webSockets } from '@libp2p/websockets';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import {
  Directory,
  MAX_QUERY_LIMIT,
  handleDirectoryProtocols,
  queryHosts,
} from '@cairn/peer/directory';
import type { DirectoryProtocols } from '@cairn/peer/directory';
import type { AuditShard, ScoreKeeper } from '@cairn/drive';
import type { RelayAudits, ShardsOf } from './audits.ts';
import { DEFAULT_HTTP_PORT, DEFAULT_LISTEN, explorerUrl } from './config.ts';
import type { RelayConfig } from './config.ts';
import { DirectoryGossip } from './gossip.ts';
import { createRelayHttpServer } from './http.ts';
import { loadOrCreateIdentity } from './identity.ts';
import { createRelayMetrics, type RelayMetrics } from './metrics.ts';
import { streamMetrics } from './stream-metrics.ts';

export type { RelayConfig } from './config.ts';
export type { RelayAuditConfig } from './audits.ts';
export {
  parseRelayArgs,
  HELP,
  DEFAULT_LISTEN,
  DEFAULT_HTTP_PORT,
  DEFAULT_APP_DIR,
  DEFAULT_SCORES_FILE,
} from './config.ts';
export { loadOrCreateIdentity } from './identity.ts';
export type { CairnClientConfig } from './http.ts';

export type RelayServices = {
  identify: Identify;
  ping: Ping;
  relay: CircuitRelayService;
  pubsub: GossipSub;
};

export type RelayNode = Libp2p<RelayServices>;

export interface Relay {
  node: RelayNode;
  directory: Directory;
  /** What the relay's audits found, per host (undefined when it does not audit). */
  scores: ScoreKeeper | undefined;
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:8080 */
  httpUrl: string;
  /** The relay's libp2p addresses, each ending in /p2p/<peer id>. */
  multiaddrs: Multiaddr[];
  /** Stop libp2p and the HTTP server; safe to call twice. */
  stop(): Promise<void>;
}

const DIRECTORY_PRUNE_INTERVAL_MS = 60_000;
const PEER_REDIAL_INTERVAL_MS = 30_000;

function ipOf(ma: Multiaddr): string | undefined {
  return ma.getComponents().find((c) => c.name === 'ip4' || c.name === 'ip6')?.value;
}

/** WebSocket listen addresses become wss (`/tls/ws`) when the relay has a certificate. */
function secureListen(addrs: string[]): string[] {
  return addrs.map((a) => (/\/(tls\/ws|wss)$/.test(a) ? a : a.replace(/\/ws$/, '/tls/ws')));
}

/** Start a relay. Resolves once libp2p listens and the HTTP server accepts requests. */
export async function startRelay(config: RelayConfig = {}): Promise<Relay> {
  const log = config.log ?? (() => {});
  const started = Date.now();
  const explorer =
    config.explorerUrl == null ? undefined : explorerUrl('explorerUrl', config.explorerUrl);
  let privateKey: PrivateKey | undefined;
  if (config.identityFile != null)
    ({ privateKey } = await loadOrCreateIdentity(config.identityFile, log));

  const tls =
    config.tlsCert != null && config.tlsKey != null
      ? { cert: await readFile(config.tlsCert), key: await readFile(config.tlsKey) }
      : undefined;
  const listen =
    tls != null
      ? secureListen(config.listen ?? [DEFAULT_LISTEN])
      : (config.listen ?? [DEFAULT_LISTEN]);
  const maxConnectionsPerIp = config.maxConnectionsPerIp ?? 64;
  const directory = new Directory({ maxEntries: config.maxDirectoryEntries });

  // Filled in once the node exists; the gater and the gauges run only after start.
  const ref: { node?: RelayNode } = {};
  const metrics = createRelayMetrics({
    connections: () => ref.node?.getConnections().length ?? 0,
    peers: () => ref.node?.getPeers().length ?? 0,
    reservations: () => ref.node?.services.relay.reservations.size ?? 0,
    directoryHosts: () => {
      directory.prune();
      return directory.size;
    },
    scoredHosts: () => audits?.scores.size ?? 0,
  });
  let audits: RelayAudits | undefined;

  // The relay server exposes no byte counts, so count what arrives on its streams: data a
  // source sends arrives on its hop stream, data a destination sends arrives on the stop stream
  // the relay opened to it. A 'message' listener of our own would switch the stream to flowing
  // mode before the relay reads it (and lose data), so watch the events it dispatches instead.
  const countBytes = (stream: Stream, direction: 'source' | 'destination'): void => {
    const dispatch = stream.dispatchEvent.bind(stream);
    stream.dispatchEvent = (evt: Event): boolean => {
      if (evt.type === 'message') {
        metrics.relayedBytes.inc({ direction }, (evt as StreamMessageEvent).data.byteLength);
      }
      return dispatch(evt);
    };
  };
  const onProtocolStream = (stream: Stream): void => {
    if (stream.protocol === RELAY_V2_HOP_CODEC && stream.direction === 'inbound') {
      countBytes(stream, 'source');
    } else if (stream.protocol === RELAY_V2_STOP_CODEC && stream.direction === 'outbound') {
      metrics.relayedCircuits.inc();
      countBytes(stream, 'destination');
    }
  };

  const node: RelayNode = await createLibp2p({
    ...(privateKey != null ? { privateKey } : {}),
    addresses: { listen, ...(config.announce != null ? { announce: config.announce } : {}) },
    transports: [webSockets(tls != null ? { https: tls } : {})],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    metrics: streamMetrics(onProtocolStream),
    connectionManager: {
      maxConnections: config.maxConnections ?? 2048,
      inboundConnectionThreshold: config.inboundConnectionsPerIpPerSecond ?? 20,
      maxIncomingPendingConnections: 128,
    },
    connectionGater: {
      // Browsers behind one NAT share an address, so the cap is generous; it stops one machine
      // from taking every slot.
      denyInboundConnection(maConn: MultiaddrConnection): boolean {
        const ip = ipOf(maConn.remoteAddr);
        if (ip == null || ref.node == null) return false;
        let open = 0;
        for (const conn of ref.node.getConnections()) if (ipOf(conn.remoteAddr) === ip) open++;
        return open >= maxConnectionsPerIp;
      },
    },
    services: {
      identify: identify(),
      ping: ping(),
      relay: circuitRelayServer({
        reservations: {
          maxReservations: config.maxReservations ?? 1024,
          // Keep the library's per-connection caps (128 KiB, 2 minutes by default): enough for
          // signalling a WebRTC connection, useless as a bulk data path.
          applyDefaultLimit: true,
          ...(config.relayDataLimit != null ? { defaultDataLimit: config.relayDataLimit } : {}),
          ...(config.relayDurationLimit != null
            ? { defaultDurationLimit: config.relayDurationLimit }
            : {}),
        },
        maxInboundHopStreams: 64,
        maxOutboundStopStreams: 1024,
      }),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false }),
    },
  });
  ref.node = node;

  const gossip = new DirectoryGossip(node.services.pubsub, directory, {
    log,
    onReceived: (result) => metrics.announcements.inc({ source: 'gossip', result }),
  });
  gossip.start();

  let protocols: DirectoryProtocols;
  try {
    protocols = await handleDirectoryProtocols(node, directory, {
      onAnnouncement(record, result) {
        metrics.announcements.inc({ source: 'direct', result });
        if (result !== 'stale') void gossip.publish(record);
      },
      onError(err, protocol) {
        if (protocol.includes('announce') && err.name !== 'AbortError') {
          metrics.announcements.inc({ source: 'direct', result: 'rejected' });
        }
      },
    });
  } catch (err) {
    await node.stop();
    throw err;
  }

  const multiaddrs = (): Multiaddr[] => node.getMultiaddrs();
  const server = createRelayHttpServer({
    appDir: config.appDir === undefined ? null : config.appDir,
    log,
    health: () => ({
      ok: true,
      peerId: node.peerId.toString(),
      multiaddrs: multiaddrs().map(String),
      uptime: Math.round((Date.now() - started) / 1000),
      connections: node.getConnections().length,
      reservations: node.services.relay.reservations.size,
      directoryHosts: directory.size,
    }),
    // Circuit addresses (through another relay) are no use to a client looking for this one.
    clientConfig: () => ({
      relays: multiaddrs()
        .map(String)
        .filter((a) => !a.includes('/p2p-circuit')),
      ...(config.chain ? { chain: config.chain } : {}),
      ...(explorer != null ? { explorer } : {}),
    }),
    metrics: async () => ({
      contentType: metrics.registry.contentType,
      body: await metrics.registry.metrics(),
    }),
  });
  const httpHost = config.httpHost ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.httpPort ?? DEFAULT_HTTP_PORT, httpHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await node.stop();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const httpUrl = `http://${httpHost.includes(':') ? `[${httpHost}]` : httpHost}:${port}`;

  // Other relays: connect now, and again whenever the connection is gone.
  const peers = (config.peers ?? []).map((a) => multiaddr(a));
  const dialPeers = async (): Promise<void> => {
    await Promise.all(
      peers.map(async (ma) => {
        const id = ma.getComponents().findLast((c) => c.name === 'p2p')?.value;
        if (id != null && node.getPeers().some((p) => p.toString() === id)) return;
        try {
          await node.dial(ma, { signal: AbortSignal.timeout(10_000) });
          // Gossip carries only new announcements: fetch what the other relay already holds
          // (one query, so at most MAX_QUERY_LIMIT records; hosts re-announce for the rest).
          for (const record of await queryHosts(node, ma, { limit: MAX_QUERY_LIMIT })) {
            metrics.announcements.inc({ source: 'sync', result: directory.put(record) });
          }
        } catch (err) {
          log(`could not reach relay ${ma.toString()}: ${(err as Error).message}`);
        }
      }),
    );
  };
  await dialPeers();
  const redial = setInterval(() => void dialPeers(), PEER_REDIAL_INTERVAL_MS);
  redial.unref();
  const prune = setInterval(() => directory.prune(), DIRECTORY_PRUNE_INTERVAL_MS);
  prune.unref();

  // With a chain and a funded key: report missed proofs (the reporter's share pays for the gas).
  let watcher: RelayWatcher | undefined;
  try {
    if (config.chain != null && config.reporterKeyFile != null)
      watcher = await startWatcher(config.chain, config.reporterKeyFile, log, metrics);
    // Off-chain audits of the hosts that reach us, storage ones when the watcher knows the deals.
    if (config.audit !== false) {
      const { startRelayAudits } = await import('./audits.ts');
      audits = await startRelayAudits({
        node,
        directory,
        metrics,
        config: config.audit ?? {},
        ...(config.scoresFile != null ? { scoresFile: config.scoresFile } : {}),
        ...(watcher != null ? { shardsOf: watcher.shardsOf } : {}),
        log,
      });
    }
  } catch (err) {
    clearInterval(redial);
    clearInterval(prune);
    server.close();
    await watcher?.stop().catch(() => {});
    await node.stop();
    throw err;
  }

  log(
    `relay ${node.peerId.toString()} listening on ${multiaddrs().map(String).join(' ')}; http ${httpUrl}`,
  );

  let stopping: Promise<void> | undefined;
  return {
    node,
    directory,
    get scores() {
      return audits?.scores;
    },
    httpUrl,
    get multiaddrs() {
      return multiaddrs();
    },
    stop() {
      stopping ??= (async () => {
        clearInterval(redial);
        clearInterval(prune);
        await audits?.stop().catch(() => {});
        await watcher?.stop().catch(() => {});
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await protocols.stop().catch(() => {});
        gossip.stop();
        await node.stop();
        await closed;
      })();
      return stopping;
    },
  };
}

interface RelayWatcher {
  stop(): Promise<void>;
  /** Shards of a host's live deals to audit off chain (a few, at random). */
  shardsOf: ShardsOf;
}

/** Live deals of one host audited per round, at most (one of them, at random, per audit). */
const DEALS_PER_HOST = 8;
/** New deals looked up on chain per host and round, at most (the rest next round). */
const DEAL_LOOKUPS_PER_ROUND = 16;

/** The relay's watcher: loaded lazily, so a relay without a chain never loads the chain code. */
async function startWatcher(
  chain: Record<string, unknown>,
  keyFile: string,
  log: (msg: string) => void,
  metrics: RelayMetrics,
): Promise<RelayWatcher> {
  const { createChainReader, createChainSigner, currentPeriod, getDeal, parseChainConfig } =
    await import('@cairn/contracts');
  const { accountFromKeyFile } = await import('@cairn/contracts/node');
  const { Watcher } = await import('@cairn/earn');
  const config = parseChainConfig(chain);
  const reader = createChainReader(config);
  const signer = createChainSigner(config, accountFromKeyFile(keyFile), { reader });
  const watcher = new Watcher({
    reader,
    signer,
    config,
    onEvent: (e) => {
      if (e.type === 'reported') {
        metrics.missesReported.inc(e.misses);
        log(`reported a missed proof: deal ${String(e.dealId)}`);
      } else if (e.type === 'error') log(`watcher: ${e.message}`);
    },
  });
  await watcher.start();
  log(`watching deals on chain ${config.chainId} as ${signer.account}`);

  // Root, size and leaf size of a deal never change: look each up once.
  const shards = new Map<bigint, AuditShard>();
  let period: { value: bigint; at: number } | undefined;
  const shardsOf: ShardsOf = async (wallet, signal) => {
    if (period === undefined || Date.now() - period.at > 5_000) {
      const value = await withTimeout(currentPeriod(reader), 10_000, 'current period');
      period = { value, at: Date.now() };
    }
    const now = period.value;
    const live = watcher.deals();
    if (shards.size > 2 * live.length + 64) {
      const ids = new Set(live.map((d) => d.id));
      for (const id of shards.keys()) if (!ids.has(id)) shards.delete(id);
    }
    // Only deals that have begun: from its start period the chain itself expects the shard.
    const mine = live.filter(
      (d) => d.host.toLowerCase() === wallet.toLowerCase() && d.start <= now && now < d.end,
    );
    const picked = shuffle(mine).slice(0, DEALS_PER_HOST);
    const out: AuditShard[] = [];
    let lookups = 0;
    for (const d of picked) {
      let shard = shards.get(d.id);
      if (shard === undefined) {
        if (signal.aborted || lookups++ >= DEAL_LOOKUPS_PER_ROUND) continue;
        const deal = await withTimeout(getDeal(reader, d.id), 10_000, `deal ${d.id}`);
        shard = { root: deal.root.slice(2), size: Number(deal.size), leafSize: deal.leafSize };
        shards.set(d.id, shard);
      }
      out.push(shard);
    }
    return out;
  };
  return { stop: () => watcher.stop(), shardsOf };
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function shuffle<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
