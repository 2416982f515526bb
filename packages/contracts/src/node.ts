// Node-only: the local chain (anvil from npm), deployment, and the compiler.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { Hex } from './abi.ts';
import { ChainClient } from './client.ts';
import {
  DEFAULT_MARKET_PARAMS,
  LOCAL_CHAIN_ID,
  type CairnChainConfig,
  type MarketParams,
} from './config.ts';
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
  const client = new ChainClient({ rpcUrl, timeoutMs: 1000 });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`anvil exited (${child.exitCode}): ${stderr}`);
    if (options.signal?.aborted || Date.now() > deadline) {
      await stop();
      throw options.signal?.reason ?? new Error('anvil did not answer within 15 s');
    }
    try {
      await client.chainId();
      return { rpcUrl, process: child, stop };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export interface DeployOptions {
  rpcUrl: string;
  /** deployer; default: the node's first account */
  from?: Hex;
  params?: Partial<MarketParams>;
  /** total token supply, to the deployer @default 10^9 tokens (18 decimals) */
  supply?: bigint;
  /** local chains: tokens moved into the faucet @default half the supply */
  faucetFunds?: bigint;
  /** tokens per drip @default 10_000 tokens */
  faucetDrip?: bigint;
  /** write the config JSON here */
  configPath?: string;
}

export const TOKEN = 10n ** 18n;

/** Deploys token and market (plus a funded faucet on a local chain) and returns their config. */
export async function deploy(options: DeployOptions): Promise<CairnChainConfig> {
  const chain = new ChainClient({ rpcUrl: options.rpcUrl });
  const from = options.from ?? (await chain.accounts())[0]!;
  const chainId = await chain.chainId();
  const params = { ...DEFAULT_MARKET_PARAMS, ...options.params };
  const supply = options.supply ?? 1_000_000_000n * TOKEN;
  const deployBlock = Number(await chain.request<Hex>('eth_blockNumber')) + 1;
  const token = await chain.deploy(from, cairnTokenAbi, cairnTokenBytecode, [from, supply]);
  const market = await chain.deploy(from, storageMarketAbi, storageMarketBytecode, [token, params]);
  const config: CairnChainConfig = {
    chainId,
    rpcUrl: options.rpcUrl,
    token,
    market,
    deployBlock,
    periodSeconds: params.periodSeconds,
  };
  if (chainId === LOCAL_CHAIN_ID || chainId === 1337) {
    const faucet = await chain.deploy(from, faucetAbi, faucetBytecode, [
      token,
      options.faucetDrip ?? 10_000n * TOKEN,
      0,
    ]);
    await chain.write(from, token, cairnTokenAbi, 'transfer', [
      faucet,
      options.faucetFunds ?? supply / 2n,
    ]);
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
