// End to end between real browsers and Node hosts: one Chromium page uploads a 64 MiB random file
// to six hosts (three Chromium pages storing in OPFS/IndexedDB, three Node hosts storing on disk),
// over WebRTC signalled through a loopback relay; m hosts are then closed, and a fresh browser
// context downloads the file by its share link alone. The relay's own metrics must show that the
// bulk bytes did not pass through it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCairnNode, startHosting, type CairnNode, type Hosting } from '@cairn/peer';
import { FsShardStore } from '@cairn/store/fs';
import { startRelay, type Relay } from '@cairn/relay';
import { startChromiumHarness, type ChromiumHarness } from '../../scripts/chromium-harness.ts';
import { relayMetric } from '../../relay/test/helpers.ts';
import type { E2E } from './harness.ts';

const MiB = 1024 * 1024;
const FILE_SIZE = 64 * MiB;
const K = 3;
const M = 3;
const READY = 'cairn-e2e-ready';

let relay: Relay;
let directory: string;
let harness: ChromiumHarness;
let dir: string;
const nodeHosts: { node: CairnNode; hosting: Hosting; store: FsShardStore }[] = [];

const page = (): Promise<{ context: BrowserContext; page: Page }> =>
  harness.openPage('tests/e2e/harness.html', { readyTitle: READY });

function call<K extends keyof E2E>(
  p: Page,
  method: K,
  ...args: Parameters<E2E[K]>
): Promise<Awaited<ReturnType<E2E[K]>>> {
  return p.evaluate(
    ([m, a]) => (window.cairnE2E[m] as (...x: unknown[]) => Promise<unknown>)(...a),
    [method, args] as const,
  ) as Promise<Awaited<ReturnType<E2E[K]>>>;
}

/** Bytes the relay forwarded on relayed connections (its own counter). */
const relayedBytes = (): Promise<number> =>
  relayMetric(relay.httpUrl, 'cairn_relay_relayed_bytes_total');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-e2e-'));
  relay = await startRelay({ listen: ['/ip4/127.0.0.1/tcp/0/ws'], httpPort: 0, appDir: null });
  directory = relay.multiaddrs[0]!.toString();
  harness = await startChromiumHarness({ entries: ['tests/e2e/harness.html'], cache: 'e2e' });
}, 120_000);

afterAll(async () => {
  await harness?.close();
  await Promise.allSettled(nodeHosts.map((h) => h.hosting.stop().then(() => h.node.stop())));
  await relay?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

it('a 64 MiB file goes from one browser to browser and Node hosts, and back to a fresh browser with m hosts gone', async () => {
  // Three Node hosts, each with a filesystem store.
  for (let i = 0; i < 3; i++) {
    const node = await createCairnNode({ relays: [directory], allowPrivateAddresses: true });
    const store = await FsShardStore.open({ dir: join(dir, `host-${i}`), quota: 256 * MiB });
    const hosting = await startHosting(node, { store, directories: [directory] });
    nodeHosts.push({ node, hosting, store });
  }
  // Three browser hosts, each in its own context (its own storage).
  const browserHosts: { context: BrowserContext; page: Page; peerId: string }[] = [];
  for (let i = 0; i < 3; i++) {
    const h = await page();
    const report = await call(h.page, 'host', directory, `e2e-host-${i}`, 256 * MiB);
    expect(['opfs', 'indexeddb']).toContain(report.store);
    expect(report.storage.quota).toBeGreaterThan(0);
    browserHosts.push({ ...h, peerId: report.peerId });
  }
  const deadline = Date.now() + 30_000;
  while (relay.directory.size < 6 && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 100));
  expect(relay.directory.size).toBe(6);

  const relayedBefore = await relayedBytes();
  const uploader = await page();
  const up = await call(uploader.page, 'upload', directory, FILE_SIZE, K, M);
  console.info(`upload: ${FILE_SIZE / MiB} MiB in ${(up.ms / 1000).toFixed(1)} s`);
  expect(new Set(up.hosts).size).toBe(K + M);
  const browserIds = new Set(browserHosts.map((h) => h.peerId));
  const nodeIds = new Set(nodeHosts.map((h) => h.node.peerId.toString()));
  expect(up.hosts.filter((h) => browserIds.has(h)).length).toBe(3);
  expect(up.hosts.filter((h) => nodeIds.has(h)).length).toBe(3);
  // Every browser host stored one shard (plus the small file record and the tree sidecars).
  for (const h of browserHosts) {
    const usage = await call(h.page, 'usage');
    expect(usage.used).toBeGreaterThan(FILE_SIZE / K);
  }
  await uploader.context.close();

  // A browser host reloads its page: same identity, and its shards are still in its storage.
  const survivor = browserHosts[2]!;
  const before = await call(survivor.page, 'usage');
  await survivor.page.reload();
  await harness.ready(survivor.page, READY);
  const again = await call(survivor.page, 'host', directory, 'e2e-host-2', 256 * MiB);
  expect(again.peerId).toBe(survivor.peerId);
  expect(await call(survivor.page, 'usage')).toEqual(before);

  // m hosts go away: two browsers closed, one Node host stopped. The download now needs every
  // remaining host, the reloaded browser among them.
  await browserHosts[0]!.context.close();
  await browserHosts[1]!.context.close();
  await nodeHosts[0]!.hosting.stop();
  await nodeHosts[0]!.node.stop();

  const downloader = await page();
  const down = await call(downloader.page, 'download', directory, up.link);
  console.info(`download: ${FILE_SIZE / MiB} MiB in ${(down.ms / 1000).toFixed(1)} s`);
  expect(down.size).toBe(FILE_SIZE);
  expect(down.name).toBe('e2e.bin');
  expect(down.sha256).toBe(up.sha256);

  // Shard bytes crossed 2 x 64 MiB of WebRTC; the relay forwarded signalling only.
  const relayed = (await relayedBytes()) - relayedBefore;
  console.info(`relayed through the relay: ${relayed} bytes`);
  expect(relayed).toBeLessThan(2 * MiB);
}, 600_000);
