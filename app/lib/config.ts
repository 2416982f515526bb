/**
 * How the app finds the network: the relay that served it publishes `/cairn.json` with its libp2p
 * addresses, the chain (contracts config) clients should use and, optionally, a block explorer.
 * The last answer is kept in localStorage so the installed app still knows its relays and chain
 * when it starts offline.
 */
import { parseChainConfig, type CairnChainConfig } from '@cairn/contracts';

export interface AppConfig {
  /** Relay multiaddrs, each with /p2p/<id>. */
  relays: string[];
  /** null: this network runs without payments (hosts store for free). */
  chain: CairnChainConfig | null;
  /**
   * A block explorer's base URL (http or https, no trailing slash): transactions link to
   * `${explorer}/tx/${hash}`. null: none configured (or not a usable URL).
   */
  explorer: string | null;
  /** Where this config came from (the relay's URL). */
  source: string;
  /** From the relay now, or the copy kept from an earlier visit. */
  fresh: boolean;
}

const CACHE_KEY = 'cairn-config';

/**
 * The explorer field: an http(s) URL without credentials, query or fragment, else null (an
 * unusable explorer only costs the links, so it is ignored rather than fatal).
 */
function parseExplorer(value: unknown): string | null {
  if (typeof value !== 'string' || value.includes('?') || value.includes('#')) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username !== '' || url.password !== '') return null;
  return url.toString().replace(/\/+$/, '');
}

export function parseAppConfig(value: unknown, source: string): AppConfig {
  if (typeof value !== 'object' || value === null) throw new TypeError('cairn.json: not an object');
  const v = value as { relays?: unknown; chain?: unknown; explorer?: unknown };
  if (!Array.isArray(v.relays) || !v.relays.every((r) => typeof r === 'string'))
    throw new TypeError('cairn.json: relays must be a list of multiaddrs');
  const chain = v.chain == null ? null : parseChainConfig(v.chain);
  const explorer = parseExplorer(v.explorer);
  return { relays: v.relays as string[], chain, explorer, source, fresh: true };
}

/** The relay's /cairn.json, or the copy from the last visit when the relay cannot be reached. */
export async function loadConfig(
  origin: string = location.origin,
  fetcher: typeof fetch = fetch,
): Promise<AppConfig> {
  const url = new URL('/cairn.json', origin).toString();
  try {
    const res = await fetcher(url, { cache: 'no-store', signal: AbortSignal.timeout(8000) });
    if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
    const config = parseAppConfig(await res.json(), url);
    try {
      localStorage.setItem(
        CACHE_KEY,
        JSON.stringify({ relays: config.relays, chain: config.chain, explorer: config.explorer }),
      );
    } catch {
      // storage full or denied: the next offline start just knows less
    }
    return config;
  } catch (err) {
    const kept = localStorage.getItem(CACHE_KEY);
    if (kept === null) throw err;
    return { ...parseAppConfig(JSON.parse(kept), url), fresh: false };
  }
}

/** True when the chain is a local development chain with a test-token faucet. */
export function isLocalChain(chain: CairnChainConfig | null): boolean {
  return (
    chain !== null &&
    chain.faucet !== undefined &&
    (chain.chainId === 31337 || chain.chainId === 1337)
  );
}

/**
 * Loopback and private addresses may be dialled only when the app itself was served from such an
 * address (a local Cairn, or a test): a public deployment never dials into a user's LAN.
 */
export function allowPrivateAddresses(hostname: string = location.hostname): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    /^127\./.test(hostname) ||
    /^10\./.test(hostname) ||
    /^192\.168\./.test(hostname) ||
    /^172\.(1[6-9]|2\d|3[01])\./.test(hostname)
  );
}
