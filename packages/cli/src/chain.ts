/**
 * The chain side of the commands: which chain (a `--chain-config` file, else the one the relay
 * publishes in `/cairn.json`), which wallet (`--key-file`, else `CAIRN_KEY_FILE`), a signer that
 * has been checked against the chain (reachable, the chain id the config names, a market at the
 * configured address), and token amounts in and out.
 */
import type { CairnChainConfig, ChainSigner } from '@cairn/contracts';
import type { Account } from 'viem';
import { CliError, UsageError } from './args.ts';

/** The token's decimals (CAIRN, like ETH, has 18). */
const DECIMALS = 18;
export const TOKEN_SYMBOL = 'CAIRN';
/** RPC checks before anything is signed. */
const CHECK_TIMEOUT_MS = 10_000;

export interface ChainChoice {
  config: CairnChainConfig;
  /** Where it came from, for the start-up lines: `chain.json` or `http://relay/cairn.json`. */
  source: string;
}

export interface KeySource {
  path: string;
  /** `--key-file` or `CAIRN_KEY_FILE`, for messages. */
  from: string;
}

/** The key file to use: the flag, else `CAIRN_KEY_FILE`, else none. */
export function keySource(
  flag: string | undefined,
  env: Record<string, string | undefined>,
): KeySource | undefined {
  if (flag != null) return { path: flag, from: '--key-file' };
  const fromEnv = env.CAIRN_KEY_FILE?.trim();
  if (fromEnv != null && fromEnv !== '') return { path: fromEnv, from: 'CAIRN_KEY_FILE' };
  return undefined;
}

/** The account of a 0600 key file (one 0x private key); KeyFileError otherwise. */
export async function loadKeyFile(key: KeySource): Promise<Account> {
  const { accountFromKeyFile } = await import('@cairn/contracts/node');
  return accountFromKeyFile(key.path);
}

/** Reads a `--chain-config` file (the contracts' config JSON, as `npm start` or deploy writes it). */
export async function loadChainFile(path: string): Promise<ChainChoice> {
  const { readFile } = await import('node:fs/promises');
  const { parseChainConfig } = await import('@cairn/contracts');
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (err) {
    if (err instanceof SyntaxError)
      throw new CliError(`chain config ${path} is not JSON: ${err.message}`, { cause: err });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new CliError(`chain config ${path}: file not found (ENOENT)`, { cause: err });
    throw err;
  }
  try {
    return { config: parseChainConfig(value), source: path };
  } catch (err) {
    throw new CliError(`chain config ${path}: ${stripPrefix(err)}`, { cause: err });
  }
}

/** The `chain` field of a relay's `/cairn.json`, checked (null or absent: the relay names none). */
export async function chainFromRelay(
  value: unknown,
  source: string,
): Promise<ChainChoice | undefined> {
  if (value == null) return undefined;
  const { parseChainConfig } = await import('@cairn/contracts');
  try {
    return { config: parseChainConfig(value), source };
  } catch (err) {
    throw new CliError(`${source}: chain: ${stripPrefix(err)}`, { cause: err });
  }
}

/** A short name for a chain in messages: `local chain 31337 (http://127.0.0.1:8545)`. */
export function describeChain(config: CairnChainConfig): string {
  return `${config.faucet ? 'local chain' : 'chain'} ${config.chainId} (${config.rpcUrl})`;
}

function isLoopback(url: string): boolean {
  try {
    return /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(new URL(url).hostname);
  } catch {
    return false;
  }
}

/**
 * A signer for `account` on `config`, after checking that the RPC answers, serves the chain id
 * the config names, and has code at the market's address (a stale config for a restarted local
 * chain has none). Each failure is a CliError naming it.
 */
export async function connectSigner(
  config: CairnChainConfig,
  account: Account,
): Promise<ChainSigner> {
  const { createChainSigner } = await import('@cairn/contracts');
  // A local chain is cheap to poll; receipts then arrive without a second's wait.
  const signer = createChainSigner(config, account, {
    pollingInterval: isLoopback(config.rpcUrl) ? 100 : 1000,
  });
  let chainId: number;
  let code: string | undefined;
  try {
    [chainId, code] = await withDeadline(
      Promise.all([
        signer.publicClient.getChainId(),
        signer.publicClient.getCode({ address: config.market }),
      ]),
    );
  } catch (err) {
    const e = err as Error & { details?: string; cause?: { code?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${CHECK_TIMEOUT_MS / 1000} s`
        : /fetch failed|ECONNREFUSED/i.test(`${e.details ?? ''} ${e.message}`)
          ? 'connection refused'
          : firstLine(e.details ?? e.message);
    throw new CliError(`chain unreachable: ${config.rpcUrl}: ${why}`, { cause: err });
  }
  if (chainId !== config.chainId)
    throw new CliError(
      `wrong chain: ${config.rpcUrl} serves chain ${chainId}, but the chain config names chain ${config.chainId}`,
    );
  if (code == null || code === '0x')
    throw new CliError(
      `no Cairn market at ${config.market} on chain ${chainId} (${config.rpcUrl}): the chain config is stale or for another chain`,
    );
  return signer;
}

function withDeadline<T>(promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new Error('timed out');
        err.name = 'TimeoutError';
        reject(err);
      }, CHECK_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

function stripPrefix(err: unknown): string {
  return (err as Error).message.replace(/^chain config:\s*/, '');
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}

/** Base units as a decimal number of tokens, exact (viem's formatUnits, without loading viem). */
function formatUnits(units: bigint, decimals: number): string {
  const sign = units < 0n ? '-' : '';
  const digits = (units < 0n ? -units : units).toString().padStart(decimals + 1, '0');
  const fraction = digits.slice(-decimals).replace(/0+$/, '');
  return `${sign}${digits.slice(0, -decimals)}${fraction ? `.${fraction}` : ''}`;
}

/** A decimal number of tokens (at most `decimals` places) as base units. */
function parseUnits(text: string, decimals: number): bigint {
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole!) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, '0') || '0');
}

/** Token base units as CAIRN, e.g. `12.5 CAIRN`, `0.000524 CAIRN` (at most 6 significant decimals). */
export function formatTokens(units: bigint): string {
  const text = formatUnits(units, DECIMALS);
  const [whole, fraction = ''] = text.split('.');
  if (fraction === '') return `${whole} ${TOKEN_SYMBOL}`;
  let keep: number;
  if (whole !== '0' && whole !== '-0') keep = Math.min(fraction.length, 4);
  else {
    const zeros = fraction.length - fraction.replace(/^0+/, '').length;
    keep = Math.min(fraction.length, zeros + 6);
  }
  const cut = fraction.slice(0, keep).replace(/0+$/, '');
  const approx = cut.length < fraction.length ? '~' : '';
  return `${approx}${whole}${cut ? `.${cut}` : ''} ${TOKEN_SYMBOL}`;
}

/** `--stake 100` / `--stake 2.5`: decimal tokens to base units. */
export function parseTokens(text: string, what: string, command: string): bigint {
  if (!/^\d+(\.\d{1,18})?$/.test(text.trim()))
    throw new UsageError(
      `${what} must be an amount of tokens like 100 or 2.5, got '${text}'`,
      command,
    );
  return parseUnits(text.trim(), DECIMALS);
}

/** A non-negative integer flag as a bigint (token base units, prices). */
export function parseUnitsFlag(text: string, what: string, command: string): bigint {
  if (!/^\d+$/.test(text.trim()))
    throw new UsageError(`${what} must be a non-negative integer, got '${text}'`, command);
  return BigInt(text.trim());
}

/** `6 h` for a number of periods of `periodSeconds`. */
export function formatSpan(periods: number | bigint, periodSeconds: number): string {
  const seconds = Number(periods) * periodSeconds;
  return seconds < 120
    ? `${seconds} s`
    : seconds < 2 * 3600
      ? `${Math.round(seconds / 60)} min`
      : seconds < 2 * 86400
        ? `${+(seconds / 3600).toFixed(1)} h`
        : `${+(seconds / 86400).toFixed(1)} days`;
}

/** `720 periods (6 h)`. */
export function formatPeriods(periods: number | bigint, periodSeconds: number): string {
  return `${periods} period${Number(periods) === 1 ? '' : 's'} (${formatSpan(periods, periodSeconds)})`;
}
