// The app, end to end, as a person uses it: headless Chromium against the built app (build/,
// made by `vite build` before the tests run) served by a loopback relay, with a local chain
// (anvil, hour-long periods crossed by time travel) and three paid Node hosts. Every step goes through roles and
// labels: create a drive (phrase shown and confirmed), get test tokens, host from a second
// browser drive, upload a file, see it healthy and its file list backed up, open its share link
// in a fresh context and download the identical bytes, watch the browser host earn, restore the
// drive from its phrase in a new context and see the same file, check accessibility with axe,
// and open the installed shell offline. Screenshots of each screen go to artifacts/app/.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createChainReader,
  createChainSigner,
  getMandate,
  type CairnChainConfig,
} from '@cairn/contracts';
import { startLocalChain, type Anvil } from '@cairn/contracts/node';
import { startPaidHost } from '@cairn/earn';
import { DelegationBook, handleDelegationProtocol } from '@cairn/drive';
import { createCairnNode, isWebRTCAddress, type CairnNode } from '@cairn/peer';
import { startRelay, type Relay } from '@cairn/relay';
import { MemoryShardStore } from '@cairn/store';
import { mnemonicToAccount } from 'viem/accounts';
import { chromiumLaunchOptions } from '../../scripts/browser.ts';

const root = join(import.meta.dirname, '..', '..');
const build = join(root, 'build');
const shots = join(root, 'artifacts', 'app');
const MiB = 1024 * 1024;
const TOKEN = 10n ** 18n;
/** Hour-long periods, crossed by moving the chain's clock (see `nextPeriod`). */
const PERIOD = 3600;
const DEV_MNEMONIC = 'test test test test test test test test test test test junk';

let anvil: Anvil;
let chain: CairnChainConfig;
let relay: Relay;
let browser: Browser;
const hosts: Awaited<ReturnType<typeof startNodeHost>>[] = [];
const contexts: BrowserContext[] = [];
/** A mediator: its node (reachable through the relay), wallet and the files it holds. */
let mediator: { node: CairnNode; wallet: `0x${string}`; book: DelegationBook; addr: string };

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('[page error]', err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') console.error('[page console]', m.text().slice(0, 500));
  });
  return page;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

/** Axe-core in the page: no serious or critical violation. */
async function axe(page: Page, name: string): Promise<void> {
  await page.addScriptTag({ path: join(root, 'node_modules', 'axe-core', 'axe.min.js') });
  const result = (await page.evaluate(() =>
    (
      window as unknown as {
        axe: { run(): Promise<{ violations: { id: string; impact: string; help: string }[] }> };
      }
    ).axe.run(),
  )) as { violations: { id: string; impact: string; help: string; nodes?: unknown[] }[] };
  const serious = result.violations.filter(
    (v) => v.impact === 'serious' || v.impact === 'critical',
  );
  if (serious.length > 0) console.error(`[axe ${name}]`, JSON.stringify(serious, null, 2));
  expect(serious.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
}

/** Goes through the first visit: a new drive with its phrase shown, written down and checked. */
async function createDrive(page: Page, name: string): Promise<string[]> {
  await page.goto(relay.httpUrl);
  await page.getByRole('button', { name: 'Create a new drive' }).click();
  const words = await page
    .getByRole('list', { name: 'Recovery phrase' })
    .locator('.word')
    .allTextContents();
  expect(words).toHaveLength(12);
  if (name === 'a') await shot(page, '02-recovery-phrase');
  await page.getByLabel('I have written these words down').check();
  await page.getByRole('button', { name: 'Continue' }).click();
  for (let i = 1; i <= 12; i++) {
    const input = page.getByLabel(`Word ${i}`, { exact: true });
    if ((await input.count()) > 0) await input.fill(words[i - 1]!);
  }
  await page.getByRole('button', { name: 'Create my drive' }).click();
  await page.getByRole('heading', { name: 'Your drive' }).waitFor({ timeout: 60_000 });
  return words;
}

/** Moves the chain's clock into the next period and mines a block there. */
async function nextPeriod(): Promise<void> {
  for (const [method, params] of [
    ['evm_increaseTime', [PERIOD]],
    ['evm_mine', []],
  ] as const) {
    await fetch(chain.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
    });
  }
}

async function getTestTokens(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Get test tokens' }).first().click();
  await page.getByText('Test tokens received.').first().waitFor({ timeout: 60_000 });
}

/** A paid Node host whose wallet is anvil's dev account `account`. */
async function startNodeHost(account: number) {
  const directory = relay.multiaddrs[0]!.toString();
  const node = await createCairnNode({ relays: [directory], allowPrivateAddresses: true });
  const signer = createChainSigner(
    chain,
    mnemonicToAccount(DEV_MNEMONIC, { addressIndex: account }),
    { pollingInterval: 100 },
  );
  const store = new MemoryShardStore({ quota: 256 * MiB });
  const host = await startPaidHost({
    node,
    store,
    directories: [directory],
    signer,
    pricePerBytePeriod: 1n,
    stake: 100n * TOKEN,
    daemon: { claimEveryPeriods: 1 },
  });
  return { node, host, store };
}

beforeAll(async () => {
  if (!existsSync(join(build, '200.html')))
    throw new Error('build/ has no app: run `npx vite build` first (npm test does)');
  await mkdir(shots, { recursive: true });
  ({ anvil, config: chain } = await startLocalChain({ params: { periodSeconds: PERIOD } }));
  relay = await startRelay({
    listen: ['/ip4/127.0.0.1/tcp/0/ws'],
    httpPort: 0,
    appDir: build,
    chain: { ...chain },
  });
  for (let i = 1; i <= 3; i++) hosts.push(await startNodeHost(i));
  {
    const node = await createCairnNode({
      relays: [relay.multiaddrs[0]!.toString()],
      allowPrivateAddresses: true,
    });
    const signer = createChainSigner(chain, mnemonicToAccount(DEV_MNEMONIC, { addressIndex: 9 }));
    const book = new DelegationBook();
    await handleDelegationProtocol(node, {
      reader: signer,
      wallet: signer.account,
      book,
    });
    const addr = (
      await node.waitForMultiaddr(isWebRTCAddress, { signal: AbortSignal.timeout(30_000) })
    ).toString();
    mediator = { node, wallet: signer.account, book, addr };
  }
  browser = await chromium.launch(chromiumLaunchOptions());
}, 180_000);

// A failed step leaves a picture of every open page.
afterEach(async (ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  let i = 0;
  for (const c of contexts)
    for (const p of c.pages())
      await p
        .screenshot({
          path: join(shots, `failed-${ctx.task.name.slice(0, 30)}-${i++}.png`),
          fullPage: true,
        })
        .catch(() => {});
});

afterAll(async () => {
  await Promise.allSettled(contexts.map((c) => c.close()));
  await browser?.close();
  await Promise.allSettled(hosts.map((h) => h.host.stop().then(() => h.node.stop())));
  await mediator?.node.stop();
  await relay?.stop();
  await anvil?.stop();
});

describe('the app', () => {
  let owner: Page;
  let hostPage: Page;
  let phrase: string[];
  let link: string;
  const file = randomBytes(3 * MiB + 12_345);
  const fileHash = createHash('sha256').update(file).digest('hex');

  it('first visit: the welcome screen, a new drive with its phrase, test tokens', async () => {
    owner = await newPage();
    await owner.goto(relay.httpUrl);
    await owner
      .getByRole('heading', { name: 'A drive no company can read, sell or lose' })
      .waitFor();
    await shot(owner, '01-welcome');
    await axe(owner, 'welcome');
    phrase = await createDrive(owner, 'a');
    await getTestTokens(owner);
    await shot(owner, '03-drive-empty');
    await axe(owner, 'drive');
  }, 120_000);

  it('a second browser drive hosts: space, persistence, start', async () => {
    hostPage = await newPage();
    await createDrive(hostPage, 'b');
    await hostPage.getByRole('link', { name: 'Host' }).click();
    await hostPage.getByRole('heading', { name: 'Earn by hosting' }).waitFor();
    await expect(hostPage.getByRole('slider', { name: /Offer \d+ GB/ }).count()).resolves.toBe(1);
    await hostPage.getByRole('button', { name: 'Start hosting' }).click();
    await hostPage.getByText('Hosting is on.').waitFor({ timeout: 120_000 });
    await shot(hostPage, '04-host');
    await axe(hostPage, 'host');
  }, 180_000);

  it('uploads a file to the hosts, sees it healthy and its file list backed up', async () => {
    // Four paid hosts are listed: three Node hosts and the browser host.
    await expect.poll(() => relay.directory.size, { timeout: 30_000 }).toBeGreaterThanOrEqual(4);
    await owner.getByLabel('Files to upload').setInputFiles({
      name: 'hello.bin',
      mimeType: 'application/octet-stream',
      buffer: file,
    });
    await owner.getByRole('progressbar', { name: 'Uploading hello.bin' }).waitFor();
    await owner.getByRole('row', { name: /hello\.bin/ }).waitFor({ timeout: 300_000 });
    await owner.getByText(/Your file list is backed up on \d host/).waitFor({ timeout: 120_000 });
    // After a reload (the device stayed signed in) the health is checked against the network.
    await owner.reload();
    const row = owner.getByRole('row', { name: /hello\.bin/ });
    await row.waitFor({ timeout: 60_000 });
    await row.getByText('Healthy').waitFor({ timeout: 60_000 });
    await row.getByText('4 of 4 pieces proven online').waitFor();
    await shot(owner, '05-drive-with-file');
    await owner.getByRole('button', { name: 'Share hello.bin' }).click();
    link = await owner.getByLabel('Share link').inputValue();
    expect(link).toMatch(new RegExp(`^${relay.httpUrl}/s#`));
    await shot(owner, '06-share-dialog');
  }, 400_000);

  it('the share link opens in a fresh browser and downloads the identical bytes', async () => {
    const page = await newPage();
    await page.goto(link);
    await page.getByRole('heading', { name: 'hello.bin' }).waitFor({ timeout: 60_000 });
    await expect(page.getByText('3.2 MB').count()).resolves.toBeGreaterThan(0);
    await page.getByRole('heading', { name: 'What is this?' }).waitFor();
    await shot(page, '07-share-page');
    await axe(page, 'share');
    // The service worker takes the page on its first visit, so the download streams through it.
    await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, {
      timeout: 30_000,
    });
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 120_000 }),
      page.getByRole('button', { name: 'Download', exact: true }).click(),
    ]);
    const saved = join(shots, 'downloaded.bin');
    await download.saveAs(saved);
    expect(download.suggestedFilename()).toBe('hello.bin');
    const bytes = await readFile(saved);
    expect(bytes.length).toBe(file.length);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(fileHash);
    await page.getByText('Saved to your computer.').waitFor({ timeout: 60_000 });
    await page.getByText('Streamed to disk by the service worker').waitFor();
  }, 240_000);

  it('a host goes away: the drive rebuilds its piece on a new host and the file still downloads', async () => {
    // A fifth paid host joins, then one holder of hello.bin leaves for good.
    const fresh = await startNodeHost(4);
    hosts.push(fresh);
    await expect.poll(() => relay.directory.size, { timeout: 30_000 }).toBeGreaterThanOrEqual(5);
    const gone = hosts[0]!;
    await gone.host.stop();
    await gone.node.stop();
    const row = owner.getByRole('row', { name: /hello\.bin/ });
    await owner.getByRole('button', { name: 'Check health now' }).click();
    // The check finds 3 of 4 (below the threshold: RS(2,2) is repaired at the first loss) and
    // the keeper regenerates the lost piece from two others onto the new host, with a new deal.
    await row.getByText(/1 rebuilt on new hosts/).waitFor({ timeout: 180_000 });
    await row.getByText('Healthy').waitFor();
    expect((await fresh.store.usage()).used).toBeGreaterThan(0);
    await shot(owner, '07b-drive-repaired');
    // The file downloads from its new holders (one of them the new host).
    const [download] = await Promise.all([
      owner.waitForEvent('download', { timeout: 120_000 }),
      owner.getByRole('button', { name: 'Download hello.bin' }).click(),
    ]);
    const saved = join(shots, 'downloaded-after-repair.bin');
    await download.saveAs(saved);
    expect(
      createHash('sha256')
        .update(await readFile(saved))
        .digest('hex'),
    ).toBe(fileHash);
  }, 300_000);

  it("delegates repairs to a mediator: a budget on chain and the file's shape, no key", async () => {
    await owner.getByLabel('Mediator address').fill(mediator.addr);
    await owner.getByLabel('Repair budget (CAIRN)').fill('5');
    await owner.getByLabel('For how many days').fill('30');
    await owner.getByRole('button', { name: 'Delegate repairs' }).click();
    const panel = owner.locator('section[aria-labelledby="delegate-title"]');
    await expect
      .poll(async () => (await panel.textContent())?.replace(/\s+/g, ' '), { timeout: 60_000 })
      .toMatch(/repairs 1 file until/);
    const [held] = mediator.book.files();
    expect(mediator.book.files()).toHaveLength(1);
    // The current placements (after the repair above), and a mandate of exactly the budget.
    expect(held!.placements).toHaveLength(4);
    expect(held!.set.k).toBe(2);
    expect((await getMandate(createChainReader(chain), held!.client, mediator.wallet)).budget).toBe(
      5n * TOKEN,
    );
    await shot(owner, '07c-delegated');
    await axe(owner, 'drive with delegation');
  }, 180_000);

  it('the browser host proves and earns', async () => {
    // Periods pass (the hosts seed them, answer challenges and claim what closed periods paid);
    // nothing is uploaded after this, since quotes and permits are dated by the wall clock.
    const earned = () =>
      hostPage
        .locator('dt:text-is("Earned") + dd')
        .textContent()
        .then((t) => (t ?? '').trim());
    for (let i = 0; i < 8 && (await earned()) === '0 CAIRN'; i++) {
      await nextPeriod();
      await new Promise((r) => setTimeout(r, 8000));
    }
    expect(await earned()).not.toBe('0 CAIRN');
    await hostPage
      .getByText(/Collected earnings/)
      .first()
      .waitFor();
    await shot(hostPage, '08-host-earning');
    await axe(hostPage, 'host earning');
  }, 240_000);

  it('wallet and network screens', async () => {
    await owner.getByRole('link', { name: 'Wallet' }).click();
    await owner.getByRole('heading', { name: 'Balances' }).waitFor();
    await owner.getByText('Live deals').waitFor();
    await shot(owner, '09-wallet');
    await axe(owner, 'wallet');
    await owner.getByRole('link', { name: 'Network' }).click();
    await owner.getByText(/\d+ host\(s\) announced themselves/).waitFor();
    // The three Node hosts at least (the browser host too, unless its record is being renewed).
    await expect
      .poll(async () => owner.getByRole('row').count(), { timeout: 30_000 })
      .toBeGreaterThanOrEqual(4);
    await shot(owner, '10-network');
    await axe(owner, 'network');
  }, 120_000);

  it('restores the drive from its phrase in a new browser and sees the same file', async () => {
    await owner.context().close();
    const page = await newPage();
    owner = page; // the drive's device from now on
    await page.goto(relay.httpUrl);
    await page.getByRole('button', { name: 'I have a recovery phrase' }).click();
    await page.getByLabel('Recovery phrase').fill(phrase.join(' '));
    await page.getByRole('button', { name: 'Restore my drive' }).click();
    await page.getByRole('heading', { name: 'Your drive' }).waitFor({ timeout: 60_000 });
    await page.getByRole('row', { name: /hello\.bin/ }).waitFor({ timeout: 120_000 });
    await shot(page, '11-restored');
    // The same screen on a phone.
    await page.setViewportSize({ width: 390, height: 844 });
    await shot(page, '11-restored-phone');
    await axe(page, 'drive on a phone');
  }, 240_000);

  it("delete ends the file's deals and its hosts drop the pieces", async () => {
    // hello.bin's pieces are the only shards over 1 MB (the index copies are a few KB).
    const big = async () => {
      let n = 0;
      for (const h of hosts.slice(1))
        for await (const info of h.store.list()) if (info.size > MiB) n++;
      return n;
    };
    expect(await big()).toBeGreaterThanOrEqual(2);
    owner.once('dialog', (d) => void d.accept());
    await owner.getByRole('button', { name: 'Delete hello.bin' }).click();
    await owner.getByRole('row', { name: /hello\.bin/ }).waitFor({ state: 'detached' });
    await owner.getByText('No files yet.').waitFor();
    // The hosts see the deals end on chain and free the space.
    await expect.poll(big, { timeout: 60_000 }).toBe(0);
  }, 120_000);

  it('offline: the installed shell opens and says what is unavailable', async () => {
    const page = hostPage;
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
    });
    await page.context().setOffline(true);
    await page.reload();
    await page.getByText('You are offline.').waitFor({ timeout: 30_000 });
    await page.getByRole('link', { name: 'Drive' }).waitFor();
    await shot(page, '12-offline');
    await page.context().setOffline(false);
  }, 60_000);
});
