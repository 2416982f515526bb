// A relay given a chain and a funded key watches every deal and reports missed proofs on chain,
// earning the reporter's share (real anvil, the contracts deployed).
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  approveMarket,
  marketBalance,
  openDeals,
  openedDealIds,
  poke,
  tokenBalance,
} from '@cairn/contracts';
import {
  TOKEN,
  devAccount,
  fund,
  gotoPeriod,
  makeShard,
  period,
  quoteFor,
  registerHost,
  setup,
  type Fixture,
} from '../../packages/contracts/test/helpers.ts';
import { parseRelayArgs } from '../src/config.ts';
import { perTest, relayMetric, tempDir, waitFor } from './helpers.ts';

const REPORTED = 'cairn_relay_misses_reported_total';

// anvil's dev account 7: a key anyone can know, fine for a local chain.
const REPORTER_KEY = '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356';

let f: Fixture | undefined;
afterAll(async () => f?.stop());
const { relay } = perTest();

it('reports a host that misses its challenges and collects the reporter share', async () => {
  f = await setup();
  const dir = await tempDir();
  const keyFile = join(dir, 'reporter.key');
  await writeFile(keyFile, REPORTER_KEY + '\n');
  await chmod(keyFile, 0o600);
  const reporter = devAccount(7).address;

  // A host that stores nothing and never proves; a client with a deal on it.
  const host = f.hosts[0]!;
  await registerHost(f, host, 1000n * TOKEN, 1n);
  await fund(f, f.client.account, 100n * TOKEN);
  await approveMarket(f.client, 2n ** 255n);
  const shard = makeShard(1, 8192, 1024);
  const receipt = await openDeals(f.client, [await quoteFor(f, host, shard, 10, 10n * TOKEN)]);
  const [dealId] = openedDealIds(receipt);

  const r = await relay({ chain: { ...f.config }, reporterKeyFile: keyFile });
  // The reward lands in the market balance, or in the wallet once the watcher withdraws it.
  const holdings = async () =>
    (await marketBalance(f!.reader, reporter)) + (await tokenBalance(f!.reader, reporter));
  const before = await holdings();
  // Walk the deal's periods, seeding each (as any market user would), until a challenge is missed.
  const start = await period(f);
  let reported = 0;
  for (let p = start + 1n; p < start + 12n && reported === 0; p++) {
    await gotoPeriod(f, p);
    await poke(f.client);
    reported = await relayMetric(r.httpUrl, REPORTED);
    if (reported === 0) await new Promise((resolve) => setTimeout(resolve, 1500)); // a poll of the watcher
  }
  await waitFor('the reported miss', async () => (await relayMetric(r.httpUrl, REPORTED)) > 0);
  expect(dealId).toBeDefined();
  await waitFor('the reward', async () => (await holdings()) > before);
}, 120_000);

it('refuses a reporter key without a chain', () => {
  expect(() => parseRelayArgs(['--reporter-key', '/tmp/k'])).toThrow(/needs --chain-config/);
});
