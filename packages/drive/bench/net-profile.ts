// `node packages/drive/bench/net-profile.ts [HOSTS] [MiB]`: runs the network benchmark page in
// headless Chromium under the DevTools CPU profiler and prints where the page's main thread spent
// its time (self time by function), to find what bounds the browser client. Also writes the
// profile to /tmp/cairn-net.cpuprofile (open it in Chrome DevTools).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright';
import { createServer } from 'vite';
import { chromiumLaunchOptions } from '../../../scripts/browser.ts';
import { startNetHosts } from './net-spawn.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const count = Number(process.argv[2] ?? 20);
const mib = Number(process.argv[3] ?? 16);
const hosts = await startNetHosts(count);
const server = await createServer({
  configFile: false,
  root,
  logLevel: 'error',
  // A dependency cache of its own: other Vite and Vitest runs re-optimizing the shared one made
  // the page reload mid-benchmark. The bench pages are scanned up front for the same reason.
  cacheDir: join(root, 'node_modules/.vite-bench'),
  optimizeDeps: { entries: ['tests/bench/*.html'] },
  server: { port: 0, host: '127.0.0.1', fs: { allow: [root] } },
});
await server.listen();
const address = server.httpServer?.address();
const port = typeof address === 'object' && address ? address.port : 0;
const browser = await chromium.launch(chromiumLaunchOptions());
try {
  const page = await browser.newPage();
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  const k = Math.ceil(count / 2);
  const config = { relay: hosts.relay, hosts: hosts.hosts, fileMiB: mib, k, m: count - k };
  const done = new Promise<void>((resolve, reject) => {
    page.on('console', (message) => {
      const text = message.text();
      if (!text.startsWith('CAIRN-BENCH ')) return;
      const event = JSON.parse(text.slice(12)) as { type: string; payload?: unknown };
      if (event.type === 'start') void cdp.send('Profiler.start');
      else if (event.type === 'done') resolve();
      else if (event.type === 'error') reject(new Error(String(event.payload)));
      else console.log(JSON.stringify(event.payload));
    });
  });
  await page.goto(
    `http://127.0.0.1:${port}/tests/bench/net.html?config=${encodeURIComponent(JSON.stringify(config))}`,
  );
  await done;
  const { profile } = (await cdp.send('Profiler.stop')) as {
    profile: {
      nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
      samples: number[];
      timeDeltas: number[];
    };
  };
  writeFileSync('/tmp/cairn-net.cpuprofile', JSON.stringify(profile));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
  );
  const byName = new Map<string, number>();
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*\/(node_modules|packages)\//, '$1/').replace(/\?.*$/, '')}:${lineNumber + 1}`;
    byName.set(key, (byName.get(key) ?? 0) + (self.get(node.id) ?? 0));
  }
  const total = [...byName.values()].reduce((a, b) => a + b, 0);
  for (const [name, us] of [...byName].sort((a, b) => b[1] - a[1]).slice(0, 40))
    console.log(
      `${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${name}`,
    );
} finally {
  await browser.close();
  await server.close();
  await hosts.stop();
}
