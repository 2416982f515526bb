// The cairn command's pure parts: sizes, relay inputs, error lines, host identities.
import { mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deriveUserKeys, generateRecoveryPhrase, WrongKeyError } from '@cairn/codec';
import { NotEnoughHostsError } from '@cairn/drive';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { parseSize, UsageError } from '../src/args.ts';
import { describeError } from '../src/errors.ts';
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
    expect(id.privateKey.publicKey.raw).toEqual(keys.peer.publicKey);
    await writeFile(file, 'abandon '.repeat(12));
    await expect(loadHostIdentity(file)).rejects.toThrow(/not a valid 12- or 24-word/);
  });
});
