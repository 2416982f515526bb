// Node-only: the local chain (anvil from npm), deployment, the compiler, and the accounts and
// config files of the CLI and headless hosts.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import {
  createPublicClient,
  createWalletClient,
  getAddress,
  http,
  type Abi,
  type Account,
  type Address,
  type Hex,
} from 'viem';
import type { PrivateKeyAccount, HDAccount } from 'viem/accounts';
import {
  DEFAULT_MARKET_PARAMS,
  LOCAL_CHAIN_ID,
  cairnChain,
  parseChainConfig,
  type CairnChainConfig,
  type MarketParams,
} from './config.ts';
import { toCairnError } from './errors.ts';
import { accountFromPrivateKey, accountFromRecoveryPhrase } from './wallet.ts';
import {
  cairnTokenAbi,
  cairnTokenBytecode,
  faucetAbi,
  faucetBytecode,
  storageMarketAbi,
  storageMarketBytecode,
} from './generated/abis.ts';

export { compile, inputsHash, renderGenerated, generatedPath } from './compile.ts';

const require = createRequire(import.meta.url);

/** Path of the anvil binary shipped by the `@foundry-rs/anvil-<platform>` npm package. */
export function anvilPath(): string {
  const pkg = `@foundry-rs/anvil-${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`;
  const bin = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  return join(dirname(require.resolve(`${pkg}/package.json`)), 'bin', bin);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface StartAnvilOptions {
  /** seconds between blocks; default: mine on every transaction */
  blockTime?: number;
  /** default: a free port */
  port?: number;
  chainId?: number;
  signal?: AbortSignal;
}

export interface Anvil {
  rpcUrl: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Spawns anvil on 127.0.0.1 and resolves once it answers JSON-RPC. */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<Anvil> {
  const port = options.port ?? (await freePort());
  const args = ['--host', '127.0.0.1', '--port', String(port), '--silent'];
  if (options.blockTime) args.push('--block-time', String(options.blockTime));
  if (options.chainId) args.push('--chain-id', String(options.chainId));
  const child = spawn(anvilPath(), args, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => running.forEach((c) => c.kill('SIGKILL')));
  }
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => running.delete(child));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
  };
  const rpcUrl = `http://127.0.0.1:${port}`;
  const client = createPublicClient({ transport: http(rpcUrl, { retryCount: 0, timeout: 1000 }) });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil exited (${child.exitCode}): ${stderr}`);
    if (options.signal?.aborted || Date.now() > deadline) {
      await stop();
      throw options.signal?.reason ?? new Error('anvil did not answer within 15 s');
    }
    try {
      await client.getChainId();
      return { rpcUrl, process: child, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export interface DeployOptions {
  rpcUrl: string;
  /** deployer: a local account, or the address of an account the node holds; default: the node's first */
  from?: Account | Address;
  params?: Partial<MarketParams>;
  /** total token supply, to the deployer @default 10^9 tokens (18 decimals) */
  supply?: bigint;
  /** local chains: tokens moved into the faucet @default half the supply */
  faucetFunds?: bigint;
  /** tokens per drip @default 10_000 tokens */
  faucetDrip?: bigint;
  /** write the config JSON here */
  configPath?: string;
  /** @default 100 ms */
  pollingInterval?: number;
}

export const TOKEN = 10n ** 18n;

/** Deploys token and market (plus a funded faucet on a local chain) and returns their config. */
export async function deploy(options: DeployOptions): Promise<CairnChainConfig> {
  const probe = createPublicClient({ transport: http(options.rpcUrl, { retryCount: 0 }) });
  const chainId = await probe.getChainId();
  const chain = cairnChain({ chainId, rpcUrl: options.rpcUrl });
  const pollingInterval = options.pollingInterval ?? 100;
  const publicClient = createPublicClient({
    chain,
    transport: http(options.rpcUrl, { retryCount: 0 }),
    pollingInterval,
    cacheTime: 0,
  });
  const from =
    options.from ??
    (await createWalletClient({ chain, transport: http(options.rpcUrl) }).getAddresses())[0];
  if (!from) throw new Error('the node holds no account: pass `from`');
  const wallet = createWalletClient({
    account: from,
    chain,
    transport: http(options.rpcUrl, { retryCount: 0 }),
    pollingInterval,
  });
  const deployer = wallet.account.address;
  const params = { ...DEFAULT_MARKET_PARAMS, ...options.params };
  const supply = options.supply ?? 1_000_000_000n * TOKEN;
  const deployBlock = Number(await publicClient.getBlockNumber()) + 1;
  const mined = async (hash: Hex, what: string) => {
    const r = await publicClient.waitForTransactionReceipt({ hash });
    if (r.status !== 'success') throw new Error(`deploying ${what} reverted (${hash})`);
    return r;
  };
  const create = async (what: string, abi: Abi, bytecode: Hex, args: readonly unknown[]) => {
    try {
      const hash = await wallet.deployContract({ abi, bytecode, args });
      return getAddress((await mined(hash, what)).contractAddress!);
    } catch (err) {
      throw toCairnError(err, `deploying ${what}`);
    }
  };
  const token = await create('CairnToken', cairnTokenAbi, cairnTokenBytecode, [deployer, supply]);
  const market = await create('StorageMarket', storageMarketAbi, storageMarketBytecode, [
    token,
    params,
  ]);
  const config: CairnChainConfig = {
    chainId,
    rpcUrl: options.rpcUrl,
    token,
    market,
    deployBlock,
    periodSeconds: params.periodSeconds,
  };
  if (chainId === LOCAL_CHAIN_ID || chainId === 1337) {
    const faucet = await create('Faucet', faucetAbi, faucetBytecode, [
      token,
      options.faucetDrip ?? 10_000n * TOKEN,
      0,
    ]);
    await mined(
      await wallet.writeContract({
        address: token,
        abi: cairnTokenAbi,
        functionName: 'transfer',
        args: [faucet, options.faucetFunds ?? supply / 2n],
      }),
      'faucet funds',
    );
    config.faucet = faucet;
  }
  if (options.configPath) writeFileSync(options.configPath, JSON.stringify(config, null, 2) + '\n');
  return config;
}

/** A local chain with the contracts deployed: what `npm start` runs. */
export async function startLocalChain(
  options: StartAnvilOptions & { params?: Partial<MarketParams>; configPath?: string } = {},
): Promise<{ anvil: Anvil; config: CairnChainConfig }> {
  const anvil = await startAnvil(options);
  try {
    const config = await deploy({
      rpcUrl: anvil.rpcUrl,
      params: { periodSeconds: 30, ...options.params },
      ...(options.configPath ? { configPath: options.configPath } : {}),
    });
    return { anvil, config };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}

// ------------------------------------------------------------------ CLI / headless host

/** The default config file: `$CAIRN_CHAIN_CONFIG`, else `cairn-chain.json` (what scripts/chain.ts writes). */
export const DEFAULT_CHAIN_CONFIG_PATH = 'cairn-chain.json';

/** Reads and checks a chain config JSON file (default: `$CAIRN_CHAIN_CONFIG` or cairn-chain.json). */
export function loadChainConfig(
  path: string = process.env.CAIRN_CHAIN_CONFIG ?? DEFAULT_CHAIN_CONFIG_PATH,
): CairnChainConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(
      `no chain config at ${path}: start the local chain (node packages/contracts/scripts/chain.ts) or pass a config file`,
      { cause: err },
    );
  }
  try {
    return parseChainConfig(JSON.parse(text));
  } catch (err) {
    throw new TypeError(`${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** A key file that cannot be used: readable by others, or not a 0x-hex private key. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
  readonly path: string;
  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`key file ${path}: ${message}`, options);
    this.path = path;
  }
}

/**
 * The account of a key file: a file holding one 0x-prefixed 32-byte hex private key (surrounding
 * whitespace allowed). Refused when group or others may read or write it (as ssh refuses keys).
 */
export function accountFromKeyFile(path: string): PrivateKeyAccount {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (err) {
    throw new KeyFileError(path, 'cannot be read', { cause: err });
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0)
    throw new KeyFileError(
      path,
      `is accessible by group or others (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); ` +
        `restrict it with: chmod 600 ${path}`,
    );
  const text = readFileSync(path, 'utf8').trim();
  if (!/^0x[0-9a-fA-F]{64}$/.test(text))
    throw new KeyFileError(path, 'must hold one private key: 0x followed by 64 hex digits');
  return accountFromPrivateKey(text as Hex);
}

/**
 * The account of the CLI or a headless host: from a recovery phrase (the same account the app
 * derives) or a key file; exactly one of them.
 */
export function nodeAccount(source: {
  recoveryPhrase?: string;
  passphrase?: string;
  keyFile?: string;
}): HDAccount | PrivateKeyAccount {
  if (source.recoveryPhrase !== undefined && source.keyFile !== undefined)
    throw new TypeError('give either a recovery phrase or a key file, not both');
  if (source.recoveryPhrase !== undefined)
    return accountFromRecoveryPhrase(source.recoveryPhrase, source.passphrase);
  if (source.keyFile !== undefined) return accountFromKeyFile(source.keyFile);
  throw new TypeError('no account: give a recovery phrase or a key file');
}
