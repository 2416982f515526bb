// With a chain, the relay's audits are storage audits: for each host that reaches it, one of the
// live deals of the host's wallet, challenged off chain against the root on chain (real anvil,
// the contracts deployed, real libp2p hosts).
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { approveMarket, openDeals } from '@cairn/contracts';
import { createCairnNode, putShard, startHosting, type CairnNode } from '@cairn/peer';
import { MemoryShardStore } from '@cairn/store';
import { FaultyShardStore } from '@cairn/store/testing';
import {
  TOKEN,
  fund,
  gotoPeriod,
  makeShard,
  period,
  quoteFor,
  registerHost,
  setup,
  type Fixture,
} from '../../packages/contracts/test/helpers.ts';
import type { Relay } from '../src/index.ts';
import { perTest, tempDir, waitFor } from './helpers.ts';

// anvil's dev account 8: a key anyone can know, fine for a local chain.
const REPORTER_KEY = '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97';

let f: Fixture | undefined;
afterAll(async () => f?.stop());
const { cleanup, relay } = perTest();

async function storageAudits(r: Relay, result: string): Promise<number> {
  const text = await (await fetch(`${r.httpUrl}/metrics`)).text();
  const m = new RegExp(
    `^cairn_relay_audits_total\\{type="storage",result="${result}"\\} (\\S+)$`,
    'm',
  );
  return Number(m.exec(text)?.[1] ?? 0);
}

async function node(relayAddr?: string): Promise<CairnNode> {
  const n = await createCairnNode({
    relays: relayAddr ? [relayAddr] : [],
    allowPrivateAddresses: true,
  });
  cleanup.push(() => n.stop());
  return n;
}

it('audits the shards of live deals: an honest host passes, a corrupting one fails', async () => {
  f = await setup();
  const dir = await tempDir();
  const keyFile = join(dir, 'reporter.key');
  await writeFile(keyFile, REPORTER_KEY + '\n');
  await chmod(keyFile, 0o600);

  const [honestWallet, corruptWallet] = f.hosts;
  await registerHost(f, honestWallet!, 1000n * TOKEN, 1n);
  await registerHost(f, corruptWallet!, 1000n * TOKEN, 1n);
  await fund(f, f.client.account, 100n * TOKEN);
  await approveMarket(f.client, 2n ** 255n);
  const shards = [makeShard(1, 16_384, 256), makeShard(2, 16_384, 256)];
  await openDeals(f.client, [
    await quoteFor(f, honestWallet!, shards[0]!, 10, 10n * TOKEN),
    await quoteFor(f, corruptWallet!, shards[1]!, 10, 10n * TOKEN),
  ]);
  const r = await relay({
    chain: { ...f.config },
    reporterKeyFile: keyFile,
    audit: { intervalMs: 300, timeoutMs: 5_000, refreshMs: 200 },
  });
  const relayAddr = r.multiaddrs[0]!.toString();
  const client = await node();
  const hosts: { id: string; store: FaultyShardStore }[] = [];
  for (const [i, wallet] of [honestWallet!, corruptWallet!].entries()) {
    const n = await node(relayAddr);
    const store = new FaultyShardStore(new MemoryShardStore({ quota: 1 << 24 }));
    const hosting = await startHosting(n, {
      store,
      directories: [relayAddr],
      wallet: wallet.account,
    });
    cleanup.push(() => hosting.stop());
    const addr = await n.waitForMultiaddr((a) => a.toString().includes('/webrtc'), {
      signal: AbortSignal.timeout(20_000),
    });
    const shard = shards[i]!;
    await putShard(client, addr, shard.data, {
      root: shard.tree.root,
      size: shard.data.byteLength,
      leafSize: 256,
    });
    hosts.push({ id: n.peerId.toString(), store });
  }
  hosts[1]!.store.faults.corrupt = true;
  // Meanwhile the relay only pinged them: the deals begin next period, and only from then on does
  // the chain (and so the relay) expect the shards.
  await waitFor('pings', () => hosts.every((h) => (r.scores?.evidence(h.id)?.answered ?? 0) > 0));
  expect(await storageAudits(r, 'passed')).toBe(0);
  await gotoPeriod(f, (await period(f)) + 1n);

  const [honest, corrupt] = hosts;
  await waitFor(
    'storage audits of both hosts',
    () =>
      (r.scores?.evidence(honest!.id)?.passed ?? 0) >= 2 &&
      (r.scores?.evidence(corrupt!.id)?.failed ?? 0) >= 1,
    60_000,
  );
  expect(r.scores!.evidence(honest!.id)!.failed).toBe(0);
  expect(r.scores!.evidence(corrupt!.id)!.passed).toBe(0);
  expect(r.scores!.score(honest!.id)).toBeGreaterThan(0.75);
  expect(r.scores!.score(corrupt!.id)).toBeLessThan(0.3);
  expect(await storageAudits(r, 'passed')).toBeGreaterThanOrEqual(2);
  expect(await storageAudits(r, 'failed')).toBeGreaterThanOrEqual(1);
}, 120_000);
