import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The relay's Prometheus metrics, in a registry of its own so several relays can run in one
 * process (tests) without clashing over prom-client's global registry.
 */
export interface RelayMetrics {
  registry: Registry;
  relayedBytes: Counter<'direction'>;
  relayedCircuits: Counter;
  announcements: Counter<'source' | 'result'>;
  missesReported: Counter;
  audits: Counter<'type' | 'result'>;
}

export interface RelayGauges {
  connections(): number;
  peers(): number;
  reservations(): number;
  directoryHosts(): number;
  /** Hosts the relay's score keeper remembers (0 when it does not audit). */
  scoredHosts(): number;
}

export function createRelayMetrics(gauges: RelayGauges): RelayMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'cairn_relay_' });
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  };
  gauge('cairn_relay_connections', 'Open libp2p connections', gauges.connections);
  gauge('cairn_relay_connected_peers', 'Distinct peers with an open connection', gauges.peers);
  gauge('cairn_relay_reservations', 'Active circuit relay v2 reservations', gauges.reservations);
  gauge('cairn_directory_hosts', 'Live host announcements in the directory', gauges.directoryHosts);
  gauge(
    'cairn_relay_scored_hosts',
    'Hosts with audit evidence in the relay score keeper',
    gauges.scoredHosts,
  );
  return {
    registry,
    missesReported: new Counter({
      name: 'cairn_relay_misses_reported_total',
      help: 'Missed proofs this relay reported on chain (its watcher; 0 without a chain and key)',
      registers: [registry],
    }),
    audits: new Counter({
      name: 'cairn_relay_audits_total',
      help:
        'Off-chain audits the relay ran, by type (storage: a proof of a deal shard; liveness: a ' +
        'ping) and result (passed, failed: answered without a valid proof, unreachable)',
      labelNames: ['type', 'result'],
      registers: [registry],
    }),
    relayedBytes: new Counter({
      name: 'cairn_relay_relayed_bytes_total',
      help:
        'Bytes the relay received on circuit relay v2 streams: hop streams from source peers ' +
        '(direction="source") and stop streams from destination peers (direction="destination"); ' +
        'includes the small relay control messages (reserve, connect, status)',
      labelNames: ['direction'],
      registers: [registry],
    }),
    relayedCircuits: new Counter({
      name: 'cairn_relay_circuits_total',
      help: 'Relayed connections the relay set up (stop streams opened to destinations)',
      registers: [registry],
    }),
    announcements: new Counter({
      name: 'cairn_directory_announcements_total',
      help: 'Host announcements received, by source (direct, gossip, sync from a peer relay at connect) and result (added, updated, stale, rejected)',
      labelNames: ['source', 'result'],
      registers: [registry],
    }),
  };
}
