import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { RelayAuditConfig } from './audits.ts';

/** Everything `startRelay` can be told. Every field has a default. */
export interface RelayConfig {
  /** libp2p listen addresses. @default ['/ip4/127.0.0.1/tcp/9090/ws'] */
  listen?: string[];
  /** Public addresses to advertise instead of the listen addresses (e.g. behind a TLS proxy). */
  announce?: string[];
  /** Address of the HTTP server. @default '127.0.0.1' */
  httpHost?: string;
  /** Port of the HTTP server; 0 picks a free one. @default 8080 */
  httpPort?: number;
  /** Built app to serve; null serves none. @default the repository's build/ */
  appDir?: string | null;
  /** Persistent identity; without it the relay gets a new peer id each start. */
  identityFile?: string;
  /** TLS certificate and key (PEM files): the WebSocket listeners become wss (`/tls/ws`). */
  tlsCert?: string;
  tlsKey?: string;
  /** Other relays to connect to and share the directory with (multiaddrs with /p2p/). */
  peers?: string[];
  /** Circuit relay v2 reservations held at once. @default 1024 */
  maxReservations?: number;
  /** Open connections in total. @default 2048 */
  maxConnections?: number;
  /** Open connections from one IP address. @default 64 */
  maxConnectionsPerIp?: number;
  /** New inbound connections per second from one IP address. @default 20 */
  inboundConnectionsPerIpPerSecond?: number;
  /** Host records kept. @default 10000 */
  maxDirectoryEntries?: number;
  /** Bytes per relayed connection before it is closed. @default the library's 128 KiB */
  relayDataLimit?: bigint;
  /** Milliseconds per relayed connection before it is closed. @default the library's 2 minutes */
  relayDurationLimit?: number;
  /**
   * The chain clients should use (the contracts config: chainId, rpcUrl, token, market...),
   * published as `chain` in `GET /cairn.json`. Absent: the field is left out.
   */
  chain?: Record<string, unknown>;
  /**
   * A file holding the 0x private key of a funded account (mode 0600): with `chain`, the relay
   * runs a watcher that reports missed proofs and collects the reporter's share.
   */
  reporterKeyFile?: string;
  /**
   * A block explorer for the chain (http or https, no query or fragment, e.g.
   * `https://explorer.example.org`), published as `explorer` in `GET /cairn.json`: the app links
   * each transaction to `<explorer>/tx/<hash>`. Absent: the field is left out.
   */
  explorerUrl?: string;
  /**
   * Off-chain audits of the hosts that hold a reservation here (liveness; storage too with the
   * watcher), shared with clients on `/cairn/directory/scores/1.0.0`; false: none.
   * @default { intervalMs: 5 minutes }
   */
  audit?: RelayAuditConfig | false;
  /** Where the audit scores are kept across restarts (JSON); without it they start afresh. */
  scoresFile?: string;
  /** Log lines (start-up, errors). @default silent */
  log?(msg: string): void;
}

export const DEFAULT_LISTEN = '/ip4/127.0.0.1/tcp/9090/ws';
export const DEFAULT_HTTP_PORT = 8080;
export const DEFAULT_APP_DIR = fileURLToPath(new URL('../../build/', import.meta.url));
export const DEFAULT_IDENTITY_FILE = join(homedir(), '.cairn', 'relay', 'identity.key');
export const DEFAULT_SCORES_FILE = join(homedir(), '.cairn', 'relay', 'scores.json');
export const DEFAULT_AUDIT_INTERVAL_S = 300;

export const HELP = `Usage: cairn-relay [options]

Cairn relay: circuit relay v2 (signalling only), the host directory, and the built app over HTTP.

Options (environment variable in brackets):
  --listen <multiaddr>        libp2p listen address, repeatable [CAIRN_RELAY_LISTEN, comma-separated]
                              default ${DEFAULT_LISTEN}; /ip4/0.0.0.0/tcp/9090/ws for all interfaces
  --announce <multiaddr>      public address to advertise, repeatable [CAIRN_RELAY_ANNOUNCE]
                              e.g. /dns4/relay.example.org/tcp/443/tls/ws behind a TLS proxy
  --http-host <host>          HTTP bind address [CAIRN_RELAY_HTTP_HOST] default 127.0.0.1
  --http-port <port>          HTTP port for the app, /healthz, /metrics [CAIRN_RELAY_HTTP_PORT] default ${DEFAULT_HTTP_PORT}
  --app-dir <dir>             built app to serve [CAIRN_RELAY_APP_DIR] default <repo>/build
  --no-app                    serve no app (only /healthz and /metrics)
  --identity-file <file>      persistent libp2p key, created with mode 0600 [CAIRN_RELAY_IDENTITY_FILE]
                              default ~/.cairn/relay/identity.key
  --ephemeral                 new identity each start (no identity file, no scores file)
  --tls-cert <file>           PEM certificate: WebSocket listeners become wss [CAIRN_RELAY_TLS_CERT]
  --tls-key <file>            PEM private key [CAIRN_RELAY_TLS_KEY]
  --peer <multiaddr>          another relay to share the directory with, repeatable [CAIRN_RELAY_PEERS]
  --max-reservations <n>      circuit relay reservations [CAIRN_RELAY_MAX_RESERVATIONS] default 1024
  --max-connections <n>       open connections [CAIRN_RELAY_MAX_CONNECTIONS] default 2048
  --max-connections-per-ip <n>  [CAIRN_RELAY_MAX_CONNECTIONS_PER_IP] default 64
  --max-directory-entries <n> host records kept [CAIRN_RELAY_MAX_DIRECTORY_ENTRIES] default 10000
  --chain-config <file>       the chain clients use (contracts config JSON), published in /cairn.json
                              [CAIRN_RELAY_CHAIN_CONFIG]
  --reporter-key <file>       with --chain-config: a funded account's key (mode 0600); the relay then
                              reports missed proofs and earns the reporter's share [CAIRN_RELAY_REPORTER_KEY]
  --explorer-url <url>        block explorer (http or https) published in /cairn.json: the app links
                              each transaction to <url>/tx/<hash> [CAIRN_RELAY_EXPLORER_URL]
  --audit-interval <seconds>  audit each host that reaches the relay this often, 0 for never
                              [CAIRN_RELAY_AUDIT_INTERVAL] default ${DEFAULT_AUDIT_INTERVAL_S}
  --scores-file <file>        audit scores kept across restarts [CAIRN_RELAY_SCORES_FILE]
                              default ~/.cairn/relay/scores.json
  -h, --help                  show this help
`;

function list(value: string | undefined): string[] | undefined {
  if (value == null || value.trim() === '') return undefined;
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

function int(name: string, value: string | undefined): number | undefined {
  if (value == null || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return n;
}

/**
 * A block explorer's base URL: http or https, without query or fragment; trailing slashes are
 * dropped so that `<url>/tx/<hash>` is well formed. `name` (the flag or variable) is in the error.
 */
export function explorerUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name} must be an http(s) URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`${name} must be an http(s) URL, got ${JSON.stringify(value)}`);
  if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#'))
    throw new Error(`${name} must have no query or fragment, got ${JSON.stringify(value)}`);
  if (url.username !== '' || url.password !== '')
    throw new Error(`${name} must not hold a user name or password`);
  return url.toString().replace(/\/+$/, '');
}

/** Build a config from command-line flags, falling back to CAIRN_RELAY_* environment variables. */
export function parseRelayArgs(
  argv: string[],
  env: Record<string, string | undefined> = {},
): { help: true } | { help: false; config: RelayConfig } {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: 'boolean', short: 'h' },
      listen: { type: 'string', multiple: true },
      announce: { type: 'string', multiple: true },
      'http-host': { type: 'string' },
      'http-port': { type: 'string' },
      'app-dir': { type: 'string' },
      'no-app': { type: 'boolean' },
      'identity-file': { type: 'string' },
      ephemeral: { type: 'boolean' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      peer: { type: 'string', multiple: true },
      'max-reservations': { type: 'string' },
      'max-connections': { type: 'string' },
      'max-connections-per-ip': { type: 'string' },
      'max-directory-entries': { type: 'string' },
      'chain-config': { type: 'string' },
      'reporter-key': { type: 'string' },
      'explorer-url': { type: 'string' },
      'audit-interval': { type: 'string' },
      'scores-file': { type: 'string' },
    },
  });
  if (values.help === true) return { help: true };
  const tlsCert = values['tls-cert'] ?? env.CAIRN_RELAY_TLS_CERT;
  const tlsKey = values['tls-key'] ?? env.CAIRN_RELAY_TLS_KEY;
  if ((tlsCert == null) !== (tlsKey == null))
    throw new Error('--tls-cert and --tls-key go together');
  const chainFile = values['chain-config'] ?? env.CAIRN_RELAY_CHAIN_CONFIG;
  const reporterKeyFile = values['reporter-key'] ?? env.CAIRN_RELAY_REPORTER_KEY;
  if (reporterKeyFile != null && chainFile == null)
    throw new Error('--reporter-key needs --chain-config');
  const chain =
    chainFile == null
      ? undefined
      : (JSON.parse(readFileSync(chainFile, 'utf8')) as Record<string, unknown>);
  const explorer =
    values['explorer-url'] != null
      ? explorerUrl('--explorer-url', values['explorer-url'])
      : env.CAIRN_RELAY_EXPLORER_URL != null && env.CAIRN_RELAY_EXPLORER_URL !== ''
        ? explorerUrl('CAIRN_RELAY_EXPLORER_URL (--explorer-url)', env.CAIRN_RELAY_EXPLORER_URL)
        : undefined;
  const auditInterval =
    int('--audit-interval', values['audit-interval']) ??
    int('CAIRN_RELAY_AUDIT_INTERVAL', env.CAIRN_RELAY_AUDIT_INTERVAL) ??
    DEFAULT_AUDIT_INTERVAL_S;
  const scoresFile =
    values['scores-file'] ??
    env.CAIRN_RELAY_SCORES_FILE ??
    (values.ephemeral === true ? undefined : DEFAULT_SCORES_FILE);
  const config: RelayConfig = {
    listen: values.listen ?? list(env.CAIRN_RELAY_LISTEN) ?? [DEFAULT_LISTEN],
    announce: values.announce ?? list(env.CAIRN_RELAY_ANNOUNCE),
    httpHost: values['http-host'] ?? env.CAIRN_RELAY_HTTP_HOST ?? '127.0.0.1',
    httpPort:
      int('--http-port', values['http-port']) ??
      int('CAIRN_RELAY_HTTP_PORT', env.CAIRN_RELAY_HTTP_PORT) ??
      DEFAULT_HTTP_PORT,
    appDir:
      values['no-app'] === true
        ? null
        : (values['app-dir'] ?? env.CAIRN_RELAY_APP_DIR ?? DEFAULT_APP_DIR),
    identityFile:
      values.ephemeral === true
        ? undefined
        : (values['identity-file'] ?? env.CAIRN_RELAY_IDENTITY_FILE ?? DEFAULT_IDENTITY_FILE),
    tlsCert,
    tlsKey,
    peers: values.peer ?? list(env.CAIRN_RELAY_PEERS),
    maxReservations:
      int('--max-reservations', values['max-reservations']) ??
      int('CAIRN_RELAY_MAX_RESERVATIONS', env.CAIRN_RELAY_MAX_RESERVATIONS),
    maxConnections:
      int('--max-connections', values['max-connections']) ??
      int('CAIRN_RELAY_MAX_CONNECTIONS', env.CAIRN_RELAY_MAX_CONNECTIONS),
    maxConnectionsPerIp:
      int('--max-connections-per-ip', values['max-connections-per-ip']) ??
      int('CAIRN_RELAY_MAX_CONNECTIONS_PER_IP', env.CAIRN_RELAY_MAX_CONNECTIONS_PER_IP),
    maxDirectoryEntries:
      int('--max-directory-entries', values['max-directory-entries']) ??
      int('CAIRN_RELAY_MAX_DIRECTORY_ENTRIES', env.CAIRN_RELAY_MAX_DIRECTORY_ENTRIES),
    ...(chain ? { chain } : {}),
    ...(reporterKeyFile ? { reporterKeyFile } : {}),
    ...(explorer != null ? { explorerUrl: explorer } : {}),
    audit: auditInterval === 0 ? false : { intervalMs: auditInterval * 1000 },
    ...(scoresFile != null ? { scoresFile } : {}),
  };
  return { help: false, config };
}
