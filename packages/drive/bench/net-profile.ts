// `node packages/drive/bench/net-profile.ts [HOSTS] [MiB]`: runs the network benchmark page in
// headless Chromium under the DevTools CPU profiler and prints where the page's main thread spent
// its time (self time by function), to find what bounds the browser client. Also writes the
// profile to /tmp/cairn-net.cpuprofile (open it in Chrome DevTools).
import { writeFileSync } from 'node:fs';
import { startChromiumHarness } from '../../../scripts/chromium-harness.ts';
import { startNetHosts } from './net-spawn.ts';

const count = Number(process.argv[2] ?? 20);
const mib = Number(process.argv[3] ?? 16);
const hosts = await startNetHosts(count);
const harness = await startChromiumHarness({ entries: ['tests/bench/*.html'], cache: 'bench' });
try {
  const page = await harness.browser.newPage();
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
    harness.url(`tests/bench/net.html?config=${encodeURIComponent(JSON.stringify(config))}`),
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
  await harness.close();
  await hosts.stop();
}
