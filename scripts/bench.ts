// `npm run bench [-- --json] [-- --only PREFIX]`: every benchmark, in Node and in a Chromium
// worker, each figure printed beside a baseline measured in the same run; `net.*` moves files
// between a Chromium page (and then a Node client) and 20 Node hosts over WebRTC.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCodecBenches } from '../packages/codec/bench/codec.bench.ts';
import { runGasBenches } from '../packages/contracts/bench/gas.ts';
import { runEarnBenches } from '../packages/earn/bench/proof.ts';
import { formatResult, type BenchResult } from '../packages/codec/bench/harness.ts';
import { runNetBench } from '../packages/drive/bench/net-client.ts';
import { runRepairBench } from '../packages/drive/bench/repair.ts';
import { startNetHosts } from '../packages/drive/bench/net-spawn.ts';
import { startChromiumHarness } from './chromium-harness.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args[onlyAt + 1] : undefined;
const wants = (name: string) => !only || name.startsWith(only) || only.startsWith(name);

function print(result: BenchResult) {
  console.log(json ? JSON.stringify(result) : formatResult(result));
}

if (!json)
  console.log(
    'bench                                env                 value unit   baseline / ratio',
  );

// 1. Node, in this process.
await runCodecBenches({ env: 'node', ...(only ? { only } : {}), report: print });

// 2. Peak memory while encoding 1 GiB, in a fresh process so nothing else inflates it.
if (wants('codec.pipeline.peak-memory-1GiB')) {
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', join(root, 'packages/codec/bench/memory.ts')],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`memory bench exited ${code}`)),
    );
  });
  print(JSON.parse(output.trim().split('\n').pop()!) as BenchResult);
}

// 3. Gas of the market's transactions on a local anvil (deterministic, so no same-run baseline
// is needed except where a line compares two ways of doing the same thing).
if (wants('chain')) await runGasBenches({ env: 'anvil', ...(only ? { only } : {}), report: print });

// 4. Repair in Node: one lost shard rebuilt from the others and stored on a new host, beside
// putting the same bytes as one shard (hosts in a child process).
if (wants('repair')) {
  await runRepairBench({
    report: (result) => {
      if (wants(result.bench)) print(result);
    },
  });
  (await import('node-datachannel')).cleanup();
}

// 5. In Chromium, served by Vite: the codec in a worker; the page's frames while a file is
// encoded in the worker, beside the same work in the page's thread (app.ui.*); a paid browser host proving its deals on
// anvil beside a Node host (earn.*); the network benchmark (this page as the client, Node hosts in
// a child process), then the same network lines with a Node client.
const wantsNet = wants('net');
const wantsCodec = wants('codec');
const wantsEarn = wants('earn');
const wantsUi = wants('app.ui');
if (!wantsNet && !wantsCodec && !wantsEarn && !wantsUi) process.exit(0);
// The pages are scanned up front, with a dependency cache of their own: other Vite and Vitest
// runs re-optimizing a shared one made the page reload mid-benchmark.
const harness = await startChromiumHarness({
  entries: ['tests/bench/*.html', 'tests/e2e/paid-host.html'],
  cache: 'bench',
}).catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});

/**
 * Opens a bench page and prints its result lines once it says done. A page that announces a
 * (re)start (Vite reloads a page whose dependencies it has just optimized) starts over: its
 * earlier lines are dropped and its time limit runs again, at most 5 times.
 */
async function runPage(path: string, what: string, timeoutMs: number): Promise<void> {
  const page = await harness.browser.newPage();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    let lines: BenchResult[] = [];
    await new Promise<void>((resolve, reject) => {
      let starts = 0;
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => reject(new Error(`${what} timed out`)), timeoutMs);
      };
      arm();
      page.on('console', (message) => {
        const text = message.text();
        if (!text.startsWith('CAIRN-BENCH ')) return;
        const event = JSON.parse(text.slice('CAIRN-BENCH '.length)) as {
          type: string;
          payload?: unknown;
        };
        if (event.type === 'start') {
          if (++starts > 5) reject(new Error(`${what} restarted too often`));
          lines = [];
          arm();
        } else if (event.type === 'result') lines.push(event.payload as BenchResult);
        else if (event.type === 'log') {
          if (!json) console.error(`  ${String(event.payload)}`);
        } else if (event.type === 'done') resolve();
        else reject(new Error(`${what} failed: ${String(event.payload)}`));
      });
      page.on('pageerror', reject);
      page.goto(harness.url(path)).catch(reject);
    });
    for (const result of lines) if (wants(result.bench)) print(result);
  } finally {
    clearTimeout(timer);
    await page.close();
  }
}

try {
  if (wantsCodec) {
    const query = only ? `?only=${encodeURIComponent(only)}` : '';
    await runPage(`tests/bench/index.html${query}`, 'browser benchmark', 10 * 60_000);
  }
  if (wantsUi) await runPage('tests/bench/ui.html', 'page responsiveness benchmark', 5 * 60_000);
  if (wantsEarn)
    await runEarnBenches({
      harness,
      ...(only ? { only } : {}),
      report: print,
      ...(json ? {} : { log: (line: string) => console.error(`  ${line}`) }),
    });
  if (wantsNet) {
    // The drive's defaults: k = 10, m = 10, so 20 hosts (all in one Node process).
    const hosts = await startNetHosts(20);
    try {
      const config = { relay: hosts.relay, hosts: hosts.hosts, fileMiB: 64, k: 10, m: 10 };
      await runPage(
        `tests/bench/net.html?config=${encodeURIComponent(JSON.stringify(config))}`,
        'network benchmark',
        4 * 60_000,
      );
      await runNetBench({
        ...config,
        env: 'node',
        suffix: '.node',
        pair: 'Node→Node host',
        fileBytes: 64 * 1024 * 1024,
        report: (result) => {
          if (wants(result.bench)) print(result);
        },
        ...(json ? {} : { log: (line: string) => console.error(`  ${line}`) }),
      });
    } finally {
      await hosts.stop();
    }
  }
} finally {
  await harness.close();
  if (wantsNet || wantsEarn) (await import('node-datachannel')).cleanup();
}
