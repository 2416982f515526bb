// `npm start`: a whole Cairn on this machine. A local chain (anvil on 127.0.0.1:8545 with the
// token, the storage market and a funded faucet, a block a second, 30 s periods), a relay serving
// the built app (HTTP on 127.0.0.1:5173, libp2p WebSockets on 127.0.0.1:9090), four paid headless
// hosts (`cairn host` processes with filesystem stores under .cairn-local/, each with an anvil dev
// account's key, registered with a stake), then a paid round trip over the network: a small file
// put on the hosts (deals opened on the chain first) and fetched back by its share link. The hosts
// keep running and their lines follow (challenges, proofs, earnings). Ctrl-C stops everything.
//
// Each piece is a `Service` in the list at the bottom: started in order, stopped in reverse.
// Adding a service is one more entry.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { equalBytes } from '@cairn/codec';
import { CairnNetwork, getFile, putFile, redundancyFor } from '@cairn/drive';
import { createCairnNode, type CairnNode } from '@cairn/peer';
import { startRelay } from '@cairn/relay';
import {
  accountFromPrivateKey,
  createChainSigner,
  drip,
  getDeal,
  type CairnChainConfig,
} from '@cairn/contracts';
import { startLocalChain } from '@cairn/contracts/node';
import { formatUnits, toHex } from 'viem';
import { mnemonicToAccount } from 'viem/accounts';

const root = fileURLToPath(new URL('..', import.meta.url));
const LOCAL = join(root, '.cairn-local');
const CLI = join(root, 'packages', 'cli', 'src', 'main.ts');
const HTTP_HOST = process.env.HOST ?? '127.0.0.1';
const HTTP_PORT = Number(process.env.PORT ?? 5173);
const WS_PORT = Number(process.env.CAIRN_WS_PORT ?? 9090);
const HOSTS = 4;
const HOST_QUOTA = '2G';
const START_TIMEOUT_MS = 90_000;
const CHAIN_PORT = Number(process.env.CAIRN_CHAIN_PORT ?? 8545);
/** Short periods locally: challenges, proofs and payments show within a minute. */
const PERIOD_SECONDS = 30;
/**
 * A block a second: the market counts periods on block timestamps, so the chain must make blocks
 * when nobody sends a transaction (anvil's default mines only on transactions).
 */
const BLOCK_SECONDS = 1;
/** What the hosts ask and hold: 100 CAIRN per 10^9 bytes per period, 1000 CAIRN of stake. */
const HOST_PRICE = '100000000000';
const HOST_STAKE = '1000';
/** The round trip's deals: 60 periods (30 min). */
const DEAL_PERIODS = 60;

/**
 * anvil's dev accounts (a well-known mnemonic, funded with local ETH only): the deployer is 0,
 * host-N is N (1..4), the round trip's client 5, the relay's watcher 9.
 */
const DEV_MNEMONIC = 'test test test test test test test test test test test junk';
const CLIENT_ACCOUNT = 5;
const REPORTER_ACCOUNT = 9;
function devKey(index: number): `0x${string}` {
  return toHex(mnemonicToAccount(DEV_MNEMONIC, { addressIndex: index }).getHdKey().privateKey!);
}

/** Writes a key file (mode 0600, as `cairn` requires) and returns its path. */
async function keyFile(path: string, index: number): Promise<string> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, `${devKey(index)}\n`, { mode: 0o600 });
  await chmod(path, 0o600);
  return path;
}

const tokens = (units: bigint): string => `${+Number(formatUnits(units, 18)).toFixed(4)} CAIRN`;

/** What every service hands back once it runs: lines for the summary, and how to stop it. */
interface Running {
  lines: string[];
  stop(): Promise<void>;
}

interface Service {
  name: string;
  start(): Promise<Running>;
}

/** Everything the services learn about each other as they start (the relay's addresses...). */
const local: { httpUrl?: string; relayAddr?: string; chain?: CairnChainConfig } = {};

const say = (line: string): void => void process.stdout.write(`${line}\n`);

// ---------------------------------------------------------------------------------------------
// The services.

/** anvil with the token, the market and a funded faucet deployed; its config beside the stores. */
const chainService: Service = {
  name: 'chain',
  async start() {
    const configPath = join(LOCAL, 'chain.json');
    const { anvil, config } = await startLocalChain({
      port: CHAIN_PORT,
      blockTime: BLOCK_SECONDS,
      configPath,
      params: { periodSeconds: PERIOD_SECONDS },
    });
    local.chain = config;
    return {
      lines: [
        `chain (anvil)    ${config.rpcUrl}  chain id ${config.chainId}, ${PERIOD_SECONDS} s periods, a block every ${BLOCK_SECONDS} s`,
        `                 token ${config.token}  market ${config.market}` +
          (config.faucet ? `  faucet ${config.faucet}` : ''),
        `                 config ${relative(root, configPath)} (also in /cairn.json)`,
      ],
      stop: () => anvil.stop(),
    };
  },
};

const relayService: Service = {
  name: 'relay',
  async start() {
    const appDir = join(root, 'build');
    const relay = await startRelay({
      listen: [`/ip4/127.0.0.1/tcp/${WS_PORT}/ws`],
      httpHost: HTTP_HOST,
      httpPort: HTTP_PORT,
      appDir,
      // A stable peer id, so links and the hosts' records stay valid across runs.
      identityFile: join(LOCAL, 'relay', 'identity.key'),
      // The audit scores of the hosts, kept across runs like the hosts themselves.
      scoresFile: join(LOCAL, 'relay', 'scores.json'),
      ...(local.chain
        ? {
            chain: { ...local.chain },
            reporterKeyFile: await keyFile(join(LOCAL, 'relay', 'reporter.key'), REPORTER_ACCOUNT),
          }
        : {}),
      log: (msg) => {
        if (/error|could not/i.test(msg)) say(`[relay] ${msg}`);
      },
    });
    local.httpUrl = relay.httpUrl;
    local.relayAddr = relay.multiaddrs[0]!.toString();
    return {
      lines: [
        `app + relay      ${relay.httpUrl}/   (/healthz, /metrics, /cairn.json)` +
          (['index.html', '200.html'].some((f) => existsSync(join(appDir, f)))
            ? ''
            : '   [no app built: run npm start]'),
        `relay libp2p     ${local.relayAddr}`,
        ...(local.chain ? ['relay watcher    reports missed proofs on the local chain'] : []),
      ],
      stop: () => relay.stop(),
    };
  },
};

/**
 * A `cairn host` process: the same command a user runs, with its store in .cairn-local/ and
 * anvil's dev account N as its wallet. It finds the chain in the relay's /cairn.json, registers
 * with a stake (the faucet pays), and proves, claims and withdraws every couple of periods.
 */
function hostService(index: number): Service {
  const name = `host-${index}`;
  return {
    name,
    async start() {
      const dir = join(LOCAL, name);
      const key = await keyFile(join(dir, 'wallet.key'), index);
      const child = spawn(
        process.execPath,
        [
          CLI,
          'host',
          '--dir',
          dir,
          '--quota',
          HOST_QUOTA,
          '--relay',
          local.httpUrl!,
          '--key-file',
          key,
          '--price',
          HOST_PRICE,
          '--stake',
          HOST_STAKE,
          '--claim-every',
          '2',
          '--status-every',
          String(PERIOD_SECONDS),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAIRN_RELAY: '' } },
      );
      children.add(child);
      child.once('exit', () => children.delete(child));
      const out = await startedChild(child, name, /hosting; Ctrl-C to stop/);
      const peer = /peer id (\S+)/.exec(out)?.[1] ?? '?';
      const wallet = /wallet (0x\w+)/.exec(out)?.[1] ?? '?';
      const stake = /stakes (\S+ CAIRN)/.exec(out)?.[1] ?? '?';
      return {
        lines: [
          `${name.padEnd(16)} ${peer}  ${HOST_QUOTA} in ${relative(root, dir)}/`,
          `${''.padEnd(16)} wallet ${wallet} (dev account ${index}), stake ${stake}`,
        ],
        stop: () => stopChild(child),
      };
    },
  };
}

/**
 * Puts a small file on the hosts through the network, paid (anvil's dev account 5, topped up by
 * the faucet: quotes, one transaction opening every deal, then the shards), and gets it back by
 * its link.
 */
const roundTrip: Service = {
  name: 'round trip',
  async start() {
    let node: CairnNode | undefined;
    try {
      const config = local.chain!;
      const clientKey = await keyFile(join(LOCAL, 'client.key'), CLIENT_ACCOUNT);
      const signer = createChainSigner(config, accountFromPrivateKey(devKey(CLIENT_ACCOUNT)), {
        pollingInterval: 100,
      });
      await drip(signer);
      node = await createCairnNode({ allowPrivateAddresses: true });
      const network = new CairnNetwork({
        node,
        directories: [local.relayAddr!],
        probeTimeoutMs: 30_000,
      });
      await waitFor('the hosts to announce themselves', async () => {
        return (await network.hosts()).length >= HOSTS;
      });
      const file = new Uint8Array(randomBytes(1024 * 1024 + 4321));
      const t0 = performance.now();
      const { k, m } = redundancyFor(HOSTS);
      const put = await putFile(network, () => file, {
        k,
        m,
        name: 'hello.bin',
        size: file.byteLength,
        baseUrl: `${local.httpUrl}/`,
        paid: { signer, duration: DEAL_PERIODS },
        signal: AbortSignal.timeout(START_TIMEOUT_MS),
      });
      const t1 = performance.now();
      const got = await getFile(network, put.link, { signal: AbortSignal.timeout(60_000) });
      const parts: Uint8Array[] = [];
      for await (const chunk of got.body) parts.push(chunk);
      const t2 = performance.now();
      const ok = equalBytes(Buffer.concat(parts), file);
      if (!ok) throw new Error('the file came back different');
      const ids = put.placements.map((p) => p.dealId!);
      let cost = 0n;
      for (const id of ids) cost += (await getDeal(signer, id)).price;
      return {
        lines: [
          `round trip       1 MiB put on ${new Set(put.placements.map((p) => p.host)).size} hosts (k=${k}, m=${m}) in ${(t1 - t0).toFixed(0)} ms, ` +
            `fetched back by its link in ${(t2 - t1).toFixed(0)} ms: identical bytes`,
          `                 paid by ${signer.account} (dev account ${CLIENT_ACCOUNT}, ${relative(root, clientKey)}): ` +
            `deals ${ids.join(', ')} for ${DEAL_PERIODS} periods, ${tokens(cost)} in escrow`,
          `                 ${put.link}`,
        ],
        stop: async () => {},
      };
    } finally {
      await node?.stop().catch(() => {});
    }
  },
};

/** Started stage by stage (the services of one stage together), stopped in reverse. */
const stages: Service[][] = [
  [chainService],
  [relayService],
  Array.from({ length: HOSTS }, (_, i) => hostService(i + 1)),
  [roundTrip],
];

// ---------------------------------------------------------------------------------------------
// Running them.

/**
 * Resolves with the child's output once it prints `ready`; rejects if it exits first. From then
 * on every line it prints is shown, prefixed with its name.
 */
function startedChild(child: ChildProcess, name: string, ready: RegExp): Promise<string> {
  let out = '';
  let err = '';
  let isReady = false;
  let partial = '';
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  const stopping = { done: false, said: Promise.resolve() };
  stopping.said = new Promise<void>((resolve) => {
    const seen = (d: string): void => {
      if (!/^\S+ (SIGINT|SIGTERM): stopping$/m.test(d)) return;
      child.stdout!.off('data', seen);
      stopping.done = true;
      resolve();
    };
    child.stdout!.on('data', seen);
  });
  selfStopping.set(child, stopping);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${name} did not start within ${START_TIMEOUT_MS / 1000} s\n${out}${err}`));
    }, START_TIMEOUT_MS);
    child.stdout!.on('data', (d: string) => {
      if (isReady) {
        // The host's own lines (deals, proofs, claims, status), under its name, with the time of
        // day instead of the full timestamp.
        const lines = (partial + d).split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          const m = /^\d{4}-\d\d-\d\dT(\d\d:\d\d:\d\d)\.\d+Z (.*)$/.exec(line);
          say(m ? `${m[1]} [${name}] ${m[2]}` : `[${name}] ${line}`);
        }
        return;
      }
      out += d;
      if (ready.test(out)) {
        isReady = true;
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.stderr!.on('data', (d: string) => {
      if (isReady) process.stderr.write(`[${name}] ${d}`);
      else err += d;
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (!isReady) reject(new Error(`${name} exited (${code ?? signal}): ${err.trim() || out}`));
      else if (!stopping) say(`[${name}] exited (${code ?? signal})`);
    });
  });
}

/** Children that said they are stopping (`SIGINT: stopping`): they got the signal themselves. */
const selfStopping = new WeakMap<ChildProcess, { said: Promise<void>; done: boolean }>();

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A signal to the whole process group (Ctrl-C in a terminal, timeout(1)) reaches the children
  // too, and they stop by themselves (a paid host finishes the proof it is sending); a second
  // signal would make them exit at once. Give them a moment to say so before asking.
  if (stopSignal != null) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      exited,
      selfStopping.get(child)?.said,
      new Promise((r) => (timer = setTimeout(r, 3_000))),
    ]);
    clearTimeout(timer);
  }
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (selfStopping.get(child)?.done !== true) child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(killer);
}

async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const running: { name: string; stop(): Promise<void> }[][] = [];
/** Every child process, including one still starting when Ctrl-C comes: none is left behind. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
let stopping = false;
let stopSignal: NodeJS.Signals | undefined;

async function stopAll(code: number): Promise<never> {
  if (stopping) process.exit(code);
  stopping = true;
  const force = setTimeout(() => {
    say('stopping took too long: exiting');
    process.exit(1);
  }, 30_000);
  force.unref();
  for (const stage of running.reverse()) {
    await Promise.all(
      stage.map((s) =>
        s.stop().catch((err: unknown) => say(`stopping ${s.name}: ${(err as Error).message}`)),
      ),
    );
  }
  await Promise.all([...children].map((child) => stopChild(child)));
  try {
    (await import('node-datachannel')).cleanup();
  } catch {
    // not loaded
  }
  process.exit(code);
}

let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (++signals > 1) process.exit(130);
    stopSignal = sig;
    say(`\n${sig}: stopping`);
    void stopAll(0);
  });
}

await mkdir(LOCAL, { recursive: true });
say('Cairn, locally:');
for (const stage of stages) {
  if (stopping) break;
  const started = await Promise.allSettled(stage.map((service) => service.start()));
  const ok: { name: string; stop(): Promise<void> }[] = [];
  started.forEach((r, i) => {
    if (r.status === 'fulfilled') {
      ok.push({ name: stage[i]!.name, stop: r.value.stop });
      for (const line of r.value.lines) say(`  ${line}`);
    }
  });
  running.push(ok);
  const failed = started.findIndex((r) => r.status === 'rejected');
  if (failed >= 0 && !stopping) {
    const e = (started[failed] as PromiseRejectedResult).reason as Error & { code?: string };
    const why =
      e.code === 'EADDRINUSE'
        ? `a port is taken (${e.message}); is another npm start running? (PORT and CAIRN_WS_PORT change them)`
        : e.message;
    say(`${stage[failed]!.name} failed: ${why}`);
    await stopAll(1);
  }
}
// Ctrl-C while starting: stopAll is under way and exits.
if (stopping) await new Promise(() => {});
// The cairn command looks for http://127.0.0.1:5173 unless told otherwise.
const relayFlag = local.httpUrl === 'http://127.0.0.1:5173' ? '' : ` --relay ${local.httpUrl}`;
say(`
Store and fetch with the cairn command (the hosts store only for funded deals: pay with a key):
  npx cairn put FILE --key-file .cairn-local/client.key${relayFlag}   # prints a share link
  npx cairn get LINK [OUT]${relayFlag}        # fetching is free: to OUT, or stdout
  npx cairn --help
Open the link, or ${local.httpUrl}/, in a browser. Ctrl-C to stop.

The hosts' lines follow: every ${PERIOD_SECONDS} s period the chain challenges some of their deals and
they answer with proofs; every 2 periods they claim and withdraw what the deals earned.`);
