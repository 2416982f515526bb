// `npm run bench [-- --json] [-- --only PREFIX]`: every benchmark, in Node and in a Chromium
// worker, each figure printed beside a baseline measured in the same run.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { runCodecBenches } from '../packages/codec/bench/codec.bench.ts';
import { runGasBenches } from '../packages/contracts/bench/gas.ts';
import { formatResult, type BenchResult } from '../packages/codec/bench/harness.ts';
import { chromiumLaunchOptions, findChromium, NO_BROWSER_MESSAGE } from './browser.ts';

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

// 4. A Chromium worker, served by Vite.
const executablePath = findChromium();
if (!executablePath) {
  console.error(NO_BROWSER_MESSAGE);
  process.exit(1);
}
const server = await createServer({
  configFile: false,
  root,
  logLevel: 'error',
  server: { port: 0, host: '127.0.0.1', fs: { allow: [root] } },
});
await server.listen();
const address = server.httpServer?.address();
const port = typeof address === 'object' && address ? address.port : 0;
const browser = await chromium.launch(chromiumLaunchOptions());
try {
  const page = await browser.newPage();
  const finished = new Promise<void>((resolve, reject) => {
    page.on('console', (message) => {
      const text = message.text();
      if (!text.startsWith('CAIRN-BENCH ')) return;
      const event = JSON.parse(text.slice('CAIRN-BENCH '.length)) as {
        type: string;
        payload?: unknown;
      };
      if (event.type === 'result') print(event.payload as BenchResult);
      else if (event.type === 'done') resolve();
      else reject(new Error(`browser benchmark failed: ${String(event.payload)}`));
    });
    page.on('pageerror', reject);
  });
  const query = only ? `?only=${encodeURIComponent(only)}` : '';
  await page.goto(`http://127.0.0.1:${port}/tests/bench/index.html${query}`);
  await Promise.race([
    finished,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error('browser benchmarks timed out')), 10 * 60_000),
    ),
  ]);
} finally {
  await browser.close();
  await server.close();
}
