/**
 * How the commands find the network: `--relay` (repeatable) takes a relay multiaddr
 * (`/ip4/.../ws/p2p/<id>`) or a relay's HTTP URL, whose `GET /cairn.json` lists its multiaddrs;
 * then `CAIRN_RELAY` (comma-separated); then http://127.0.0.1:5173 (what `npm start` runs).
 */
import type { CairnNode } from '@cairn/peer';
import { CliError, UsageError } from './args.ts';

export const DEFAULT_RELAY = 'http://127.0.0.1:5173';
const CONFIG_TIMEOUT_MS = 10_000;

export interface ResolvedRelays {
  /** One multiaddr (with /p2p/) per relay. */
  directories: string[];
  /** The first relay given by HTTP URL: where the app is, so share links open in a browser. */
  appUrl?: string;
  /**
   * The `chain` of the first HTTP relay whose `/cairn.json` names one (unchecked JSON), and that
   * file's URL. Relays given by multiaddr say nothing about the chain.
   */
  chain?: { value: unknown; source: string };
}

/** The relays to use: the flags, else CAIRN_RELAY, else `fallback` (else the default). */
export function relayInputs(
  flags: string[] | undefined,
  env: Record<string, string | undefined>,
  fallback?: string,
): string[] {
  if (flags != null && flags.length > 0) return flags;
  const fromEnv = (env.CAIRN_RELAY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (fromEnv.length > 0) return fromEnv;
  return [fallback ?? DEFAULT_RELAY];
}

function peerOf(addr: string): string | undefined {
  return /\/p2p\/([^/]+)$/.exec(addr)?.[1];
}

function hostOf(addr: string): string | undefined {
  return /^\/(?:ip4|ip6|dns|dns4|dns6)\/([^/]+)/.exec(addr)?.[1];
}

async function checkMultiaddr(addr: string, command: string): Promise<string> {
  const { toMultiaddr } = await import('@cairn/peer');
  try {
    toMultiaddr(addr);
  } catch (err) {
    throw new UsageError(
      `--relay ${addr} is not a valid multiaddr: ${(err as Error).message}`,
      command,
    );
  }
  if (peerOf(addr) == null)
    throw new UsageError(`--relay ${addr} must end in /p2p/<relay peer id>`, command);
  return addr;
}

/**
 * Reads `url`/cairn.json and picks one address per relay, preferring the URL's own host; also
 * returns its `chain` field.
 */
async function fromHttp(
  url: URL,
  signal?: AbortSignal,
): Promise<{ addrs: string[]; chain: unknown; source: string }> {
  const configUrl = new URL('/cairn.json', url);
  let body: unknown;
  try {
    const res = await fetch(configUrl, {
      signal: AbortSignal.any([
        AbortSignal.timeout(CONFIG_TIMEOUT_MS),
        ...(signal ? [signal] : []),
      ]),
    });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    body = await res.json();
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${CONFIG_TIMEOUT_MS / 1000} s`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new CliError(`relay unreachable: ${configUrl.href}: ${why}`, { cause: err });
  }
  const relays = (body as { relays?: unknown } | null)?.relays;
  if (!Array.isArray(relays) || !relays.every((r) => typeof r === 'string'))
    throw new CliError(`${configUrl.href} is not a Cairn relay's configuration (no "relays" list)`);
  const byPeer = new Map<string, string[]>();
  for (const addr of relays as string[]) {
    const peer = peerOf(addr);
    if (peer == null) continue;
    byPeer.set(peer, [...(byPeer.get(peer) ?? []), addr]);
  }
  if (byPeer.size === 0) throw new CliError(`${configUrl.href} lists no relay address`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return {
    addrs: [...byPeer.values()].map((addrs) => addrs.find((a) => hostOf(a) === host) ?? addrs[0]!),
    chain: (body as { chain?: unknown }).chain,
    source: configUrl.href,
  };
}

/** Checks the form of the `--relay` inputs without any network access (usage errors first). */
export function checkRelayInputs(inputs: string[], command: string): string[] {
  for (const input of inputs) {
    if (input.startsWith('/')) {
      if (peerOf(input) == null)
        throw new UsageError(`--relay ${input} must end in /p2p/<relay peer id>`, command);
    } else if (/^https?:\/\//i.test(input)) {
      if (!URL.canParse(input))
        throw new UsageError(`--relay ${input} is not a valid URL`, command);
    } else {
      throw new UsageError(
        `--relay takes a relay multiaddr (/ip4/.../ws/p2p/<id>) or its http(s):// URL, got '${input}'`,
        command,
      );
    }
  }
  return inputs;
}

/** Turns the `--relay` inputs into relay multiaddrs (fetching /cairn.json for URLs). */
export async function resolveRelays(
  inputs: string[],
  command: string,
  signal?: AbortSignal,
): Promise<ResolvedRelays> {
  const directories: string[] = [];
  let appUrl: string | undefined;
  let chain: ResolvedRelays['chain'];
  for (const input of inputs) {
    if (input.startsWith('/')) {
      directories.push(await checkMultiaddr(input, command));
    } else if (/^https?:\/\//i.test(input)) {
      let url: URL;
      try {
        url = new URL(input);
      } catch {
        throw new UsageError(`--relay ${input} is not a valid URL`, command);
      }
      const config = await fromHttp(url, signal);
      directories.push(...config.addrs);
      appUrl ??= new URL('/', url).href;
      if (chain == null && config.chain != null)
        chain = { value: config.chain, source: config.source };
    } else {
      throw new UsageError(
        `--relay takes a relay multiaddr (/ip4/.../ws/p2p/<id>) or its http(s):// URL, got '${input}'`,
        command,
      );
    }
  }
  return {
    directories: [...new Set(directories)],
    ...(appUrl != null ? { appUrl } : {}),
    ...(chain != null ? { chain } : {}),
  };
}

/** A client node (no listener, no reservation): dials hosts over WebRTC through the relays. */
export async function clientNode(): Promise<CairnNode> {
  const { createCairnNode } = await import('@cairn/peer');
  return createCairnNode({ allowPrivateAddresses: true });
}

/**
 * Stops a node within `timeoutMs`, then releases node-datachannel's native handle, without which
 * a Node process that used WebRTC never exits.
 */
export async function stopNode(node: CairnNode | undefined, timeoutMs = 5_000): Promise<void> {
  if (node != null) await withTimeout(node.stop(), timeoutMs, 'stopping the node').catch(() => {});
  await cleanupWebRTC();
}

export async function cleanupWebRTC(): Promise<void> {
  try {
    const ndc = await import('node-datachannel');
    ndc.cleanup();
  } catch {
    // not loaded, nothing to release
  }
}

/** Rejects with a TimeoutError naming `what` when `promise` has not settled in `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new Error(`${what} took longer than ${Math.round(ms / 1000)} s`);
      err.name = 'TimeoutError';
      reject(err);
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * An AbortSignal that fires when `touch()` has not been called for `idleMs` (a transfer that
 * stopped making progress), or when `parent` fires.
 */
export function idleWatchdog(
  idleMs: number,
  what: string,
  parent?: AbortSignal,
): { signal: AbortSignal; touch(): void; stop(): void } {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const fire = (): void => {
    const err = new Error(`${what}: no progress for ${Math.round(idleMs / 1000)} s`);
    err.name = 'TimeoutError';
    controller.abort(err);
  };
  const touch = (): void => {
    clearTimeout(timer);
    timer = setTimeout(fire, idleMs);
  };
  touch();
  return {
    signal: parent ? AbortSignal.any([controller.signal, parent]) : controller.signal,
    touch,
    stop: () => clearTimeout(timer),
  };
}
