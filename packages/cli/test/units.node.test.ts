// The cairn command's pure parts: sizes, relay inputs, error lines, host identities, token
// amounts and the paid host's event lines.
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveUserKeys, generateRecoveryPhrase, WrongKeyError } from '@cairn/codec';
import { NotEnoughHostsError } from '@cairn/drive';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { parseSize, UsageError } from '../src/args.ts';
import { formatPeriods, formatTokens, parseTokens } from '../src/chain.ts';
import { describeError } from '../src/errors.ts';
import { eventLine } from '../src/host.ts';
import { loadHostIdentity } from '../src/identity.ts';
import { checkRelayInputs, relayInputs } from '../src/network.ts';

describe('parseSize', () => {
  it('reads bytes and binary units', () => {
    expect(parseSize('4096')).toBe(4096);
    expect(parseSize('500M')).toBe(500 * 2 ** 20);
    expect(parseSize('10G')).toBe(10 * 2 ** 30);
    expect(parseSize('1T')).toBe(2 ** 40);
    expect(parseSize('1.5g')).toBe(1.5 * 2 ** 30);
    expect(parseSize('2GiB')).toBe(2 * 2 ** 30);
    expect(parseSize('64KB')).toBe(64 * 1024);
  });
  it('refuses anything else as a usage error', () => {
    for (const bad of ['', 'G', '-1G', '0', '10Q', '1e9', '12 apples', '99999P'])
      expect(() => parseSize(bad, '--quota', 'host'), bad).toThrow(UsageError);
  });
});

describe('relay inputs', () => {
  it('takes flags, then CAIRN_RELAY, then the fallback, then the default', () => {
    expect(relayInputs(['/a'], { CAIRN_RELAY: 'http://b' })).toEqual(['/a']);
    expect(relayInputs([], { CAIRN_RELAY: 'http://b, http://c' })).toEqual([
      'http://b',
      'http://c',
    ]);
    expect(relayInputs(undefined, {}, 'https://x.example')).toEqual(['https://x.example']);
    expect(relayInputs(undefined, { CAIRN_RELAY: '' })).toEqual(['http://127.0.0.1:5173']);
  });
  it('refuses what is neither a relay multiaddr nor a URL', () => {
    expect(
      checkRelayInputs(['http://127.0.0.1:5173', '/ip4/1.2.3.4/tcp/1/ws/p2p/12D3KooWx'], 'put'),
    ).toHaveLength(2);
    expect(() => checkRelayInputs(['relay.example.org'], 'put')).toThrow(/--relay takes/);
    expect(() => checkRelayInputs(['/ip4/1.2.3.4/tcp/1/ws'], 'put')).toThrow(/\/p2p\//);
  });
});

describe('describeError', () => {
  it('names the cause in one line', () => {
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), {
      code: 'ENOENT',
      path: '/x',
    });
    expect(describeError(enoent)).toBe('file not found: /x (ENOENT)');
    expect(describeError(Object.assign(new Error('nope'), { code: 'ENOSPC' }))).toBe(
      'disk full (ENOSPC)',
    );
    expect(describeError(new WrongKeyError('tag mismatch'))).toMatch(/^wrong key: /);
    expect(describeError(new NotEnoughHostsError('need 4, found 3'))).toBe(
      'not enough hosts: need 4, found 3',
    );
    expect(describeError(new Error('a\n    at somewhere'))).toBe('a');
  });
});

describe('host identity', () => {
  it('creates a key file (0600) once and reads the same identity back', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'cairn-cli-id-')), 'identity.key');
    const a = await loadHostIdentity(file);
    const b = await loadHostIdentity(file);
    expect([a.source, b.source]).toEqual(['created', 'key file']);
    expect(peerIdFromPrivateKey(b.privateKey).equals(peerIdFromPrivateKey(a.privateKey))).toBe(
      true,
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
  it('derives the identity and wallet from a recovery phrase file', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'cairn-cli-id-')), 'phrase.txt');
    const phrase = generateRecoveryPhrase(12);
    await writeFile(file, `${phrase}\n`);
    const id = await loadHostIdentity(file);
    const keys = await deriveUserKeys(phrase);
    expect(id.source).toBe('recovery phrase');
    expect(id.wallet).toBe(keys.wallet.address);
    // On a paid network, the phrase's wallet signs (the app's account for the same phrase).
    expect(id.account?.address).toBe(keys.wallet.address);
    expect(id.privateKey.publicKey.raw).toEqual(keys.peer.publicKey);
    await writeFile(file, 'abandon '.repeat(12));
    await expect(loadHostIdentity(file)).rejects.toThrow(/not a valid 12- or 24-word/);
  });
});

describe('tokens', () => {
  it('formats base units as CAIRN, approximate beyond 6 significant decimals', () => {
    expect(formatTokens(0n)).toBe('0 CAIRN');
    expect(formatTokens(50n * 10n ** 18n)).toBe('50 CAIRN');
    expect(formatTokens(25n * 10n ** 17n)).toBe('2.5 CAIRN');
    expect(formatTokens(5_079_360_000_000_000n)).toBe('0.00507936 CAIRN');
    expect(formatTokens(1_015_872_000_000_000n)).toBe('~0.00101587 CAIRN');
    expect(formatTokens(12_976_711_111_111_111_111n)).toBe('~12.9767 CAIRN');
  });
  it('reads amounts of tokens and refuses anything else', () => {
    expect(parseTokens('100', '--stake', 'host')).toBe(100n * 10n ** 18n);
    expect(parseTokens('2.5', '--stake', 'host')).toBe(25n * 10n ** 17n);
    expect(parseTokens('0.000000000000000001', '--stake', 'host')).toBe(1n);
    for (const bad of ['', '-1', '1e3', 'lots', '1.0000000000000000001'])
      expect(() => parseTokens(bad, '--stake', 'host'), bad).toThrow(UsageError);
  });
  it('says how long a number of periods is', () => {
    expect(formatPeriods(720, 3600)).toBe('720 periods (30 days)');
    expect(formatPeriods(60, 30)).toBe('60 periods (30 min)');
    expect(formatPeriods(1, 30)).toBe('1 period (30 s)');
  });
});

describe('host event lines', () => {
  it('one line per event a user cares about, none for pokes or empty periods', () => {
    const line = (e: Parameters<typeof eventLine>[0]) => eventLine(e, 30);
    expect(
      line({
        type: 'proof-submitted',
        dealId: 3n,
        period: 7n,
        leafIndex: 12n,
        txHash: '0x00',
        gasUsed: 81_000n,
        latencyMs: 1234,
        blocks: 1n,
        proveMs: 0.1,
        proofCpuMs: 0.1,
        cpuMs: 10,
      }),
    ).toBe(
      'proof: deal 3, period 7, leaf 12: mined 1.2 s after the challenge (1 block), gas 81000',
    );
    expect(
      line({
        type: 'missed',
        dealId: 3n,
        period: 8n,
        cause: 'offline',
        message: 'no proof was sent',
        slashed: 10n ** 18n,
        misses: 1,
      }),
    ).toBe(
      'MISSED: deal 3, period 8 (offline: no proof was sent); slashed 1 CAIRN, 1 miss on this deal',
    );
    expect(
      line({ type: 'claimed', amount: 10n ** 17n, dealIds: [1n, 2n], txHash: '0x00', gasUsed: 1n }),
    ).toBe('claimed 0.1 CAIRN from deals 1, 2');
    expect(line({ type: 'poked', period: 1n, gasUsed: 1n })).toBeUndefined();
    expect(
      line({ type: 'period', period: 1n, active: 0, challenged: 0, proven: 0, failed: 0 }),
    ).toBeUndefined();
    expect(
      line({
        type: 'deal',
        dealId: 4n,
        root: `0x${'ab'.repeat(32)}`,
        start: 2n,
        duration: 60,
        price: 3n * 10n ** 18n,
      }),
    ).toBe('deal 4 opened: shard abababababab, periods 2..61 (30 min), price 3 CAIRN');
  });
});
