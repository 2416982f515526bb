// `npm start`: a whole Cairn on this machine. A local chain (anvil on 127.0.0.1:8545 with the
// token, the storage market and a funded faucet), a relay serving the built app (HTTP on
// 127.0.0.1:5173, libp2p WebSockets on 127.0.0.1:9090), four headless hosts (`cairn host`
// processes with filesystem stores under .cairn-local/), then a round trip over the network: a
// small file put on the hosts and fetched back by its share link. Ctrl-C stops everything.
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
import { CairnNetwork, getFile, putFile } from '@cairn/drive';
import { createCairnNode, type CairnNode } from '@cairn/peer';
import { startRelay } from '@cairn/relay';
import type { CairnChainConfig } from '@cairn/contracts';
import { startLocalChain } from '@cairn/contracts/node';

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
      configPath,
      params: { periodSeconds: PERIOD_SECONDS },
    });
    local.chain = config;
    return {
      lines: [
        `chain (anvil)    ${config.rpcUrl}  chain id ${config.chainId}, ${PERIOD_SECONDS} s periods`,
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
      ...(local.chain
        ? { chain: { ...local.chain }, reporterKeyFile: await localReporterKey() }
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
          (existsSync(join(appDir, 'index.html')) ? '' : '   [no app built: run npm start]'),
        `relay libp2p     ${local.relayAddr}`,
        ...(local.chain ? ['relay watcher    reports missed proofs on the local chain'] : []),
      ],
      stop: () => relay.stop(),
    };
  },
};

/**
 * The relay's watcher signs with anvil's dev account 9 (a well-known key, funded with local ETH
 * only): it reports missed proofs on the local chain.
 */
async function localReporterKey(): Promise<string> {
  const file = join(LOCAL, 'relay', 'reporter.key');
  await mkdir(join(LOCAL, 'relay'), { recursive: true });
  await writeFile(file, '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6\n', {
    mode: 0o600,
  });
  await chmod(file, 0o600);
  return file;
}

/** A `cairn host` process: the same command a user runs, with its store in .cairn-local/. */
function hostService(index: number): Service {
  const name = `host-${index}`;
  return {
    name,
    async start() {
      const dir = join(LOCAL, name);
      const child = spawn(
        process.execPath,
        [CLI, 'host', '--dir', dir, '--quota', HOST_QUOTA, '--relay', local.httpUrl!],
        { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAIRN_RELAY: '' } },
      );
      children.add(child);
      child.once('exit', () => children.delete(child));
      const started = await startedChild(child, name, /peer id (\S+)/, /hosting; Ctrl-C to stop/);
      return {
        lines: [`${name.padEnd(16)} ${started[1]}  ${HOST_QUOTA} in ${relative(root, dir)}/`],
        stop: () => stopChild(child),
      };
    },
  };
}

/** Puts a small file on the hosts through the network and gets it back by its link. */
const roundTrip: Service = {
  name: 'round trip',
  async start() {
    let node: CairnNode | undefined;
    try {
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
      const put = await putFile(network, () => file, {
        k: 2,
        m: 2,
        name: 'hello.bin',
        size: file.byteLength,
        baseUrl: `${local.httpUrl}/`,
        signal: AbortSignal.timeout(START_TIMEOUT_MS),
      });
      const t1 = performance.now();
      const got = await getFile(network, put.link, { signal: AbortSignal.timeout(60_000) });
      const parts: Uint8Array[] = [];
      for await (const chunk of got.body) parts.push(chunk);
      const t2 = performance.now();
      const ok = equalBytes(Buffer.concat(parts), file);
      if (!ok) throw new Error('the file came back different');
      return {
        lines: [
          `round trip       1 MiB put on ${new Set(put.placements.map((p) => p.host)).size} hosts (k=2, m=2) in ${(t1 - t0).toFixed(0)} ms, ` +
            `fetched back by its link in ${(t2 - t1).toFixed(0)} ms: identical bytes`,
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

/** Resolves with the `ready` match once the child prints it; rejects if it exits first. */
function startedChild(
  child: ChildProcess,
  name: string,
  id: RegExp,
  ready: RegExp,
): Promise<RegExpMatchArray> {
  let out = '';
  let err = '';
  let isReady = false;
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${name} did not start within ${START_TIMEOUT_MS / 1000} s\n${out}${err}`));
    }, START_TIMEOUT_MS);
    child.stdout!.on('data', (d: string) => {
      if (isReady) {
        // After start-up, only what needs attention (failed announcements and the like).
        for (const line of d.split('\n'))
          if (/fail|error|unreachable/i.test(line)) say(`[${name}] ${line}`);
        return;
      }
      out += d;
      const match = id.exec(out);
      if (match != null && ready.test(out)) {
        isReady = true;
        clearTimeout(timer);
        resolve(match);
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

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ctrl-C in a terminal reaches the children too, and they stop by themselves; a second signal
  // would make them exit at once. Give them a moment before asking.
  if (stopSignal === 'SIGINT')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
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
Store and fetch with the cairn command:
  npx cairn put FILE${relayFlag}              # prints a share link
  npx cairn get LINK [OUT]${relayFlag}        # to OUT, or stdout
  npx cairn --help
Open the link, or ${local.httpUrl}/, in a browser. Ctrl-C to stop.`);
