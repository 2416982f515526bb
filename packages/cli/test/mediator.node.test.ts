// `cairn mediator` and `cairn delegate` end to end: a fresh anvil with the contracts, a `cairn
// relay` publishing the chain, three paid `cairn host` processes, a paid `cairn put` (k = 1,
// m = 1), the owner delegating the file to a running mediator and leaving; a host abandons its
// deal and the mediator repairs the shard in the owner's name within the mandate; the link still
// fetches; the mediator restarts with its delegations; refusals (no mandate, another key's
// signature, oversized, malformed) are answered and the mediator keeps running; the owner
// revokes.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shardSetOf } from '@cairn/codec';
import {
  DealStatus,
  abandonDeal,
  getDeal,
  getMandate,
  tokenAllowance,
  tokenBalance,
} from '@cairn/contracts';
import {
  CairnNetwork,
  DelegationRefusedError,
  openLink,
  sendDelegation,
  signDelegation,
  type Delegation,
} from '@cairn/drive';
import { createCairnNode, type CairnNode } from '@cairn/peer';
import { devAccount, setup, TOKEN, type Fixture } from '../../contracts/test/helpers.ts';
import { stopNode } from '../src/network.ts';
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
const OWNER = 4;
const MEDIATOR = 6;
let f: Fixture;
let dir = '';
let relayUrl = '';
let relayAddr = '';
const daemons: Daemon[] = [];
const hostPeers = new Map<string, number>(); // peer id -> dev account index
let ownerKey = '';
let mediatorKey = '';
let mediatorDir = '';
let med: Daemon;
let medAddr = '';
let link = '';
let original: Buffer;
let fileId = '';
let client: CairnNode | undefined;

function daemon(args: string[]): Daemon {
  const d = start(args);
  daemons.push(d);
  return d;
}

const keyFile = (name: string, i: number) => writeKeyFile(dir, name, devKey(i));

function startMediator(): Daemon {
  return daemon([
    'mediator',
    '--dir',
    mediatorDir,
    '--key-file',
    mediatorKey,
    '--relay',
    relayUrl,
    '--every',
    '2',
    '--duration',
    '5',
    '--status-every',
    '1',
  ]);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cairn-cli-mediator-'));
  f = await setup();
  const chainFile = join(dir, 'chain.json');
  await writeFile(chainFile, JSON.stringify(f.config));
  const relay = await startRelay(daemon, chainFile);
  relayUrl = relay.url;
  relayAddr = relay.addr;
  const hosts: Daemon[] = [];
  for (let i = 1; i <= HOSTS; i++) {
    hosts.push(
      daemon([
        'host',
        '--dir',
        join(dir, `host${i}`),
        '--quota',
        '16M',
        '--relay',
        relayUrl,
        '--key-file',
        await keyFile(`host${i}.key`, i),
        '--stake',
        '50',
        '--price',
        '1000',
      ]),
    );
  }
  for (const [i, h] of hosts.entries()) {
    hostPeers.set((await h.waitFor(/peer id (12D3\w+)/, 90_000))[1]!, i + 1);
    await h.waitFor(/hosting; Ctrl-C to stop/, 90_000);
  }
  await until('3 hosts in the directory', async () => (await directorySize(relayUrl)) >= HOSTS);
  ownerKey = await keyFile('owner.key', OWNER);
  mediatorKey = await keyFile('mediator.key', MEDIATOR);
  mediatorDir = join(dir, 'mediator');
}, 150_000);

afterAll(async () => {
  await stopNode(client);
  await Promise.all(daemons.map((d) => stop(d)));
  await f?.stop();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('cairn mediator and cairn delegate', () => {
  it("repairs a delegated file in the owner's name while the owner is away", async () => {
    original = randomBytes(40_000);
    const input = join(dir, 'thesis.bin');
    await writeFile(input, original);
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
      ownerKey,
      '--duration',
      '10',
    ]);
    expect(put.code, put.stderr).toBe(0);
    link = put.stdout.toString().trim();

    med = startMediator();
    await med.waitFor(/mediating: a repair round every 2 s/, 90_000);
    expect(med.text()).toMatch(/peer id 12D3\w+ \(identity: created\)/);
    expect(med.text()).toMatch(
      new RegExp(`wallet ${devAccount(MEDIATOR).address} on local chain 31337 .* ETH for gas`),
    );
    medAddr = (await med.waitFor(/ address (\S+\/p2p-circuit\/webrtc\/p2p\/12D3\w+)/))[1]!;

    const allowance0 = await tokenAllowance(f.reader, devAccount(OWNER).address);
    const del = await cairn([
      'delegate',
      link,
      '--mediator',
      medAddr,
      '--key-file',
      ownerKey,
      '--budget',
      '5',
      '--days',
      '7',
      '--relay',
      relayUrl,
    ]);
    expect(del.code, del.stderr).toBe(0);
    const out = del.stdout.toString();
    expect(out).toMatch(
      new RegExp(`mediator 12D3\\w+: wallet ${devAccount(MEDIATOR).address}, holds 0 files`),
    );
    expect(out).toMatch(
      /mandate: 0x\w+ may spend up to 5 CAIRN of 0x\w+'s tokens on repair deals until .* \(7 days\); the market's allowance raised by 5 CAIRN/,
    );
    const delegated =
      /delegated ([0-9a-f]{16}) \(2 shards, k=1 m=1, deals (\d+), (\d+)\) to 12D3\w+: accepted/.exec(
        out,
      );
    expect(delegated, out).not.toBeNull();
    fileId = delegated![1]!;
    const owner = devAccount(OWNER).address;
    const mediator = devAccount(MEDIATOR).address;
    expect((await getMandate(f.reader, owner, mediator)).budget).toBe(5n * TOKEN);
    // On top of what the market was allowed before, not instead of it.
    expect(await tokenAllowance(f.reader, owner)).toBe(allowance0 + 5n * TOKEN);
    await med.waitFor(new RegExp(`delegation accepted: ${fileId} of ${owner}, k=1 m=1, deals`));
    const book = join(mediatorDir, 'delegations.json');
    expect((await stat(book)).mode & 0o777).toBe(0o600);
    // The book holds nothing that decrypts: the link's key is not in it.
    const key = link.split('#')[1]!;
    expect(await readFile(book, 'utf8')).not.toContain(key);

    // The owner is gone (its process exited). A host abandons its deal for shard 0.
    const [gone, kept] = [BigInt(delegated![2]!), BigInt(delegated![3]!)];
    const goneDeal = await getDeal(f.reader, gone);
    const holder = [...hostPeers.values()].find((i) => devAccount(i).address === goneDeal.host)!;
    const owner0 = await tokenBalance(f.reader, owner);
    const mediator0 = await tokenBalance(f.reader, mediator);
    await abandonDeal(f.signer(devAccount(holder)), gone);
    const repaired = await med.waitFor(
      new RegExp(
        `repaired shard (\\d) of ${fileId} for ${owner}: deal (\\d+) on (12D3\\w+), ([\\d.~]+) CAIRN from the mandate`,
      ),
      120_000,
    );
    const fresh = BigInt(repaired[2]!);
    const deal = await getDeal(f.reader, fresh);
    expect(deal.client).toBe(owner);
    expect(deal.status).toBe(DealStatus.Active);
    expect((await getDeal(f.reader, gone)).status).toBe(DealStatus.Repaired);
    expect((await getDeal(f.reader, kept)).status).toBe(DealStatus.Active);
    expect((await getMandate(f.reader, owner, mediator)).budget).toBe(5n * TOKEN - deal.price);
    expect(await tokenBalance(f.reader, owner)).toBe(owner0 - deal.price);
    expect(await tokenBalance(f.reader, mediator)).toBe(mediator0);
    await med.waitFor(/mandate of 0x\w+: [\d.~]+ CAIRN left until /);
    await until('the book saved with the new deal', async () =>
      (await readFile(book, 'utf8')).includes(`"dealId": "${fresh}"`),
    );

    // The original link still fetches the identical bytes.
    const got = await cairn(['get', link, '-', '--relay', relayUrl]);
    expect(got.code, got.stderr).toBe(0);
    expect(sha(got.stdout)).toBe(sha(original));

    // A restart keeps the delegation, with the repaired placement.
    const stopped = await stop(med);
    expect(stopped.code, med.output()).toBe(0);
    expect(med.text()).toMatch(/SIGTERM: stopping[\s\S]*stopped/);
    med = startMediator();
    await med.waitFor(/delegations: 1 held/, 60_000);
    expect(med.text()).toMatch(/peer id 12D3\w+ \(identity: key file\)/);
    medAddr = (await med.waitFor(/ address (\S+\/p2p-circuit\/webrtc\/p2p\/12D3\w+)/, 60_000))[1]!;
    await med.waitFor(/status: 1 delegated file from 1 owner; 0 shards repaired since start/);
    await med.waitFor(/mediating: /);
    // Nothing left to repair: its rounds open no deal.
    await new Promise((r) => setTimeout(r, 3000));
    expect(med.text()).not.toMatch(/repaired shard|repair of .* failed/);
  }, 240_000);

  it('refuses what it should, says why, and keeps running; the owner revokes', async () => {
    client = await createCairnNode({ allowPrivateAddresses: true });
    const network = new CairnNetwork({ node: client, directories: [relayAddr] });
    const opened = await openLink(network, link);
    const base: Delegation = {
      kind: 'delegate',
      chainId: f.config.chainId,
      client: devAccount(OWNER).address,
      mediator: devAccount(MEDIATOR).address,
      id: 'other',
      issuedAt: Date.now(),
      set: shardSetOf(opened.manifest),
      placements: opened.placements.map(({ shard, host, dealId }) => ({ shard, host, dealId })),
    };
    const refusal = async (request: Uint8Array): Promise<DelegationRefusedError> => {
      const err = await sendDelegation(client!, medAddr, request).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DelegationRefusedError);
      return err as DelegationRefusedError;
    };
    // No mandate: a wallet that granted this mediator nothing.
    const stranger = devAccount(7);
    const noMandate = await refusal(
      await signDelegation(stranger, { ...base, client: stranger.address }),
    );
    expect(noMandate.code).toBe('no-mandate');
    expect(noMandate.message).toMatch(/has granted 0x\w+ no mandate/);
    // Signed by another key for the owner (who does have a mandate).
    // Another key's signature on a delegation naming the owner.
    const forged = await refusal(await signDelegation({ ...stranger, address: base.client }, base));
    expect(forged.code).toBe('bad-signature');
    expect(forged.message).toMatch(/is signed by 0x\w+/);
    const tooLarge = await refusal(new Uint8Array(1024 * 1024 + 1));
    expect(tooLarge.code).toBe('too-large');
    const malformed = await refusal(randomBytes(200));
    expect(malformed.code).toBe('malformed');
    for (const code of ['no-mandate', 'bad-signature', 'too-large', 'malformed'])
      await med.waitFor(new RegExp(`delegation refused \\(${code}\\)`));
    expect(med.child.exitCode).toBeNull();

    // The owner takes the file back and ends the mandate; the allowance goes down by what is left.
    const owner = devAccount(OWNER).address;
    const mediator = devAccount(MEDIATOR).address;
    const left = (await getMandate(f.reader, owner, mediator)).budget;
    const allowance = await tokenAllowance(f.reader, owner);
    const revoke = await cairn([
      'delegate',
      link,
      '--mediator',
      medAddr,
      '--key-file',
      ownerKey,
      '--revoke',
      '--relay',
      relayUrl,
    ]);
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(revoke.stdout.toString()).toMatch(new RegExp(`withdrew ${fileId} from the mediator`));
    expect(revoke.stdout.toString()).toMatch(/mandate of 0x\w+ revoked/);
    expect((await getMandate(f.reader, owner, mediator)).budget).toBe(0n);
    expect(await tokenAllowance(f.reader, owner)).toBe(allowance > left ? allowance - left : 0n);
    await med.waitFor(new RegExp(`delegation withdrawn: ${fileId} of ${owner} \\(dropped\\)`));
    await med.waitFor(/status: 0 delegated files from 0 owners/);
    // Someone else's wallet cannot delegate the owner's file (checked before any transaction).
    const strangerKey = await keyFile('stranger.key', 7);
    const notYours = await cairn([
      'delegate',
      link,
      '--mediator',
      medAddr,
      '--key-file',
      strangerKey,
      '--budget',
      '1',
      '--relay',
      relayUrl,
    ]);
    expect(notYours.code, notYours.stderr).toBe(1);
    expect(notYours.stderr).toMatch(
      /^cairn delegate: this file's deals are paid by 0x\w+, not by your wallet 0x\w+/,
    );
    expect(notYours.stderr.trim().split('\n')).toHaveLength(1);
    expect((await getMandate(f.reader, stranger.address, mediator)).budget).toBe(0n);
    expect(med.child.exitCode).toBeNull();
  }, 120_000);

  it('usage errors exit 2 with the reason', async () => {
    const runs = await Promise.all([
      cairn(['mediator', '--key-file', mediatorKey]),
      cairn(['mediator', '--dir', join(dir, 'm2'), '--every', '0', '--key-file', mediatorKey]),
      cairn(['delegate', link, '--key-file', ownerKey, '--budget', '1']),
      cairn(['delegate', link, '--mediator', medAddr, '--key-file', ownerKey]),
      cairn(['delegate', link, '--mediator', medAddr, '--key-file', ownerKey, '--budget', '0']),
      cairn(['delegate', link, '--mediator', devAccount(MEDIATOR).address, '--budget', '1']),
    ]);
    const reasons = [
      /--dir DIR is required/,
      /--every must be a number of seconds >= 1/,
      /--mediator MULTIADDR is required/,
      /--budget AMOUNT is required/,
      /--budget must be more than 0/,
      /--mediator 0xWALLET is only for --revoke without LINK/,
    ];
    runs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(reasons[i]!);
    });
    const help = await cairn(['mediator', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout.toString()).toMatch(/^Usage: cairn mediator --dir DIR --key-file KEY/);
  });
});
