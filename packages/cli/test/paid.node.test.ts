// Paid `cairn` end to end: a fresh anvil with the contracts (1-hour periods crossed by time
// travel), a `cairn relay` publishing the chain in /cairn.json, three `cairn host` processes with
// anvil dev account key files (registered with a stake from the faucet), a paid `cairn put`, the
// hosts proving period after period, claiming, a host restarted over its state, and the failures
// a user can meet (unpaid put, bad key file, no funds, wrong chain).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DealStatus, getDeal, marketEvents } from '@cairn/contracts';
import { generatePrivateKey } from 'viem/accounts';
import {
  devAccount,
  gotoPeriod,
  period,
  setup,
  type Fixture,
} from '../../contracts/test/helpers.ts';
import {
  cairn,
  devKey,
  directorySize,
  sha,
  start,
  startRelay,
  stop,
  until,
  writeKeyFile,
  type Daemon,
} from './procs.ts';

const HOSTS = 3;
let f: Fixture;
let dir = '';
let chainFile = '';
let relayUrl = '';
const daemons: Daemon[] = [];
const hosts: { d: Daemon; dir: string; key: string; wallet: string }[] = [];

function daemon(args: string[]): Daemon {
  const d = start(args);
  daemons.push(d);
  return d;
}

const keyFile = (name: string, key: string, mode?: number) => writeKeyFile(dir, name, key, mode);

function startHost(hostDir: string, key: string): Daemon {
  return daemon([
    'host',
    '--dir',
    hostDir,
    '--quota',
    '16M',
    '--relay',
    relayUrl,
    '--key-file',
    key,
    '--stake',
    '50',
    '--price',
    '1000',
    '--claim-every',
    '1',
    '--status-every',
    '1',
  ]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-cli-paid-'));
  f = await setup();
  chainFile = join(dir, 'chain.json');
  await writeFile(chainFile, JSON.stringify(f.config));
  const relay = await startRelay(daemon, chainFile);
  relayUrl = relay.url;
  for (let i = 0; i < HOSTS; i++) {
    const hostDir = join(dir, `host${i}`);
    const key = await keyFile(`host${i}.key`, devKey(1 + i));
    hosts.push({
      d: startHost(hostDir, key),
      dir: hostDir,
      key,
      wallet: devAccount(1 + i).address,
    });
  }
  for (const h of hosts) {
    await h.d.waitFor(/hosting; Ctrl-C to stop/, 90_000);
    // Registered with the stake the faucet paid for.
    expect(h.d.text()).toMatch(/registered in the market: 0x\w+ stakes 50 CAIRN/);
    expect(h.d.text()).toMatch(/the faucet sent 10000 CAIRN/);
  }
  await until('3 hosts in the directory', async () => (await directorySize(relayUrl)) >= HOSTS);
}, 150_000);

afterAll(async () => {
  await Promise.all(daemons.map((d) => stop(d)));
  await f?.stop();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
}, 60_000);

/** A host's lines that say something went wrong on chain. */
const troubles = (text: string) =>
  text.split('\n').filter((line) => /proof failed|MISSED|chain: /.test(line));

describe('paid cairn', () => {
  it('an unpaid put is refused with the cause and what to do', async () => {
    const input = join(dir, 'unpaid.bin');
    await writeFile(input, randomBytes(50_000));
    const r = await cairn(['put', input, '--k', '1', '--m', '1', '--relay', relayUrl]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /^cairn put: these hosts store only for funded deals: pass --key-file PATH/m,
    );
    expect(r.stdout.toString()).toBe('');
  });

  it('a paid put opens the deals; the hosts prove, claim, and one restarted resumes', async () => {
    const original = randomBytes(300_000);
    const input = join(dir, 'paid.bin');
    await writeFile(input, original);
    const clientKey = await keyFile('client.key', devKey(4));
    // Two shards on three hosts: one spare, in case a host cannot be reached on a busy machine.
    const put = await cairn([
      'put',
      input,
      '--k',
      '1',
      '--m',
      '1',
      '--relay',
      relayUrl,
      '--key-file',
      clientKey,
      '--duration',
      '10',
    ]);
    expect(put.code, put.stderr).toBe(0);
    expect(put.stdout.toString()).toMatch(new RegExp(`^${relayUrl}/#[A-Za-z0-9_-]+\\n$`));
    expect(put.stderr).toMatch(/faucet \(local chain\): \+10000 CAIRN/);
    expect(put.stderr).toMatch(/deals for 10 periods \(10 h\)/);
    const paid = /paid ([\d.~]+) CAIRN into escrow for 2 deals \(ids (\d+), (\d+)\)/.exec(
      put.stderr,
    );
    expect(paid, put.stderr).not.toBeNull();
    const ids = paid!.slice(2).map(BigInt);
    // The hosts holding a shard, by the peer ids the put names.
    const holders: typeof hosts = [];
    const dealOf = new Map<Daemon, bigint>();
    for (const id of ids) {
      const deal = await getDeal(f.reader, id);
      expect(deal.status).toBe(DealStatus.Active);
      expect(deal.client).toBe(devAccount(4).address);
      const peer = new RegExp(`deal ${id}: shard \\d on (12D3\\w+), \\d+ bytes, `).exec(put.stderr);
      expect(peer, put.stderr).not.toBeNull();
      const holder = hosts.find((h) => h.d.text().includes(`peer id ${peer![1]}`))!;
      expect(deal.host).toBe(holder.wallet);
      holders.push(holder);
      dealOf.set(holder.d, id);
    }
    // Each holder sees its deal on the chain.
    for (const h of holders)
      await h.d.waitFor(
        new RegExp(`deal ${dealOf.get(h.d)} opened: shard \\w+, periods \\d+\\.\\.\\d+`),
      );

    // Period after period: every holder handles the challenges of each period. Challenges are
    // random (50 % at first): go on until some host proved, a claim happened, and at least two
    // periods passed.
    const first = (await period(f)) + 1n;
    let p = first;
    let proofs = 0;
    for (; p < first + 6n; p++) {
      await gotoPeriod(f, p);
      for (const h of holders) await h.d.waitFor(new RegExp(`period ${p}: 1 active deal,`), 30_000);
      proofs = hosts.reduce((n, h) => n + (h.d.text().match(/ proof: deal /g) ?? []).length, 0);
      const claimed = hosts.some((h) => /claimed [\d.~]+ CAIRN from deals? /.test(h.d.text()));
      if (proofs > 0 && claimed && p >= first + 1n) break;
    }
    expect(proofs, hosts.map((h) => h.d.output()).join('\n')).toBeGreaterThan(0);
    for (const h of hosts) expect(troubles(h.d.text())).toEqual([]);
    // What the hosts say matches the chain's ProofAccepted events.
    const accepted = await marketEvents(f.reader, { eventName: 'ProofAccepted' });
    expect(accepted.length).toBe(proofs);

    // A restart in the same period resumes from its state: no second proof, the totals kept.
    const proved = holders.find((h) =>
      new RegExp(`proof: deal \\d+, period ${p},`).test(h.d.text()),
    );
    const restarted = proved ?? holders[0]!;
    const stopped = await stop(restarted.d);
    expect(stopped.code, restarted.d.output()).toBe(0);
    expect(restarted.d.text()).toMatch(/SIGTERM: stopping[\s\S]*totals: [\s\S]*stopped/);
    // The totals count the proofs the chain accepted as far as the host had read it (a proof it
    // just sent is counted once it reads its event): at most what the chain holds.
    const provenBefore = Number(
      /totals: \d+ live deals?, (\d+) proofs?/.exec(restarted.d.text())![1],
    );
    const deal = dealOf.get(restarted.d)!;
    const provenOnChain = (await marketEvents(f.reader, { eventName: 'ProofAccepted' })).filter(
      (e) => e.args.dealId === deal,
    ).length;
    expect(provenBefore).toBeLessThanOrEqual(provenOnChain);
    expect((await stat(join(restarted.dir, 'earn-state.json'))).mode & 0o777).toBe(0o600);
    const again = startHost(restarted.dir, restarted.key);
    await again.waitFor(/earning: resumed with 1 live deal,/, 60_000);
    await again.waitFor(/already registered: /);
    await again.waitFor(/hosting; Ctrl-C to stop/, 60_000);
    const status = await again.waitFor(/status: \d+ live deals?, (\d+) proofs?/);
    // Caught up with the chain: the totals kept and completed, nothing proven twice.
    expect(Number(status[1])).toBe(provenOnChain);
    expect(again.text()).not.toMatch(new RegExp(`proof: deal \\d+, period ${p},`));
    // And it handles the next period.
    await gotoPeriod(f, p + 1n);
    await again.waitFor(new RegExp(`period ${p + 1n}: 1 active deal,`), 30_000);
    expect(troubles(again.text())).toEqual([]);
    const perPeriod = new Set<string>();
    for (const e of await marketEvents(f.reader, { eventName: 'ProofAccepted' })) {
      const key = `${e.args.dealId}:${e.args.period}`;
      expect(perPeriod.has(key)).toBe(false);
      perPeriod.add(key);
    }

    // Fetching is free; the hosts count the bytes they served.
    const got = await cairn(['get', put.stdout.toString().trim(), '-', '--relay', relayUrl]);
    expect(got.code, got.stderr).toBe(0);
    expect(sha(got.stdout)).toBe(sha(original));
    await until('a host reporting egress', async () =>
      [again, ...hosts.map((h) => h.d)].some((d) =>
        /served [1-9][\d.]* [KM]iB to 1 client \(egress\)/.test(d.text()),
      ),
    );
  }, 240_000);

  it('a bad key file, no funds, a wrong chain: exit 1 with the cause', async () => {
    const open = await keyFile('open.key', devKey(7), 0o644);
    const poor = await keyFile('poor.key', generatePrivateKey());
    const wrongChain = join(dir, 'wrong-chain.json');
    await writeFile(wrongChain, JSON.stringify({ ...f.config, chainId: 1 }));
    const input = join(dir, 'small.bin');
    await writeFile(input, randomBytes(1000));
    const host = (name: string, ...args: string[]) =>
      cairn(['host', '--dir', join(dir, name), '--quota', '1M', '--relay', relayUrl, ...args]);
    const [readable, missing, noFunds, wrong, putNoFunds, noKey] = await Promise.all([
      host('h-open', '--key-file', open),
      host('h-missing', '--key-file', join(dir, 'nope.key')),
      host('h-poor', '--key-file', poor),
      host(
        'h-wrong',
        '--key-file',
        await keyFile('h7.key', devKey(7)),
        '--chain-config',
        wrongChain,
      ),
      cairn(['put', input, '--relay', relayUrl, '--key-file', poor]),
      host('h-nokey'),
    ]);
    expect(readable.code, readable.stderr).toBe(1);
    expect(readable.stderr).toMatch(
      /^cairn host: key file .*open\.key: is accessible by group or others \(mode 644\); restrict it with: chmod 600/,
    );
    expect(missing.code, missing.stderr).toBe(1);
    expect(missing.stderr).toMatch(
      /^cairn host: key file .*nope\.key: cannot be read \(file not found, ENOENT\)/,
    );
    expect(noFunds.code, noFunds.stderr).toBe(1);
    expect(noFunds.stderr).toMatch(
      /^cairn host: not enough funds: 0x\w+ has 0 ETH, but this needs more to pay for gas/,
    );
    expect(wrong.code, wrong.stderr).toBe(1);
    expect(wrong.stderr).toMatch(
      /^cairn host: wrong chain: http:\/\/127\.0\.0\.1:\d+ serves chain 31337, but the chain config names chain 1/,
    );
    expect(putNoFunds.code, putNoFunds.stderr).toBe(1);
    expect(putNoFunds.stderr).toMatch(/^cairn put: not enough funds: 0x\w+ has 0 ETH/);
    // A host on a paid network without a wallet: told what to pass (usage, exit 2).
    expect(noKey.code, noKey.stderr).toBe(2);
    expect(noKey.stderr).toMatch(/hosts there are paid\. Pass --key-file PATH .* or --free/);
    for (const r of [readable, missing, noFunds, wrong, putNoFunds])
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
    // The failed hosts left no lock behind.
    await expect(readFile(join(dir, 'h-poor', 'host.lock'))).rejects.toThrow(/ENOENT/);
  }, 120_000);
});
