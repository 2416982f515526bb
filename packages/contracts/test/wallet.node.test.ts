// Wallets and errors against a real anvil: the recovery-phrase account (same address as the
// codec's derivation), key files, the config file, EIP-6963 discovery, an injected EIP-1193 wallet
// (a small provider object that forwards to anvil, standing in for a browser extension), and the
// errors a user sees: wrong chain, too little balance, rejected signature, revert reasons.
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveUserKeys, generateRecoveryPhrase } from '@cairn/codec';
import { toHex, type Address, type EIP1193Provider } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContractRevertError,
  InsufficientBalanceError,
  NO_PERMIT,
  SignatureRejectedError,
  WrongChainError,
  accountFromPrivateKey,
  accountFromRecoveryPhrase,
  connectInjectedWallet,
  discoverInjectedWallets,
  drip,
  getHost,
  hashQuote,
  isValidRecoveryPhrase,
  marketEvents,
  quoteDigest,
  register,
  signPermit,
  signQuote,
  tokenBalance,
  transferToken,
  watchInjectedWallets,
  watchMarketEvents,
  withdrawCollateral,
  type InjectedWallet,
} from '../src/index.ts';
import { KeyFileError, accountFromKeyFile, loadChainConfig, nodeAccount } from '../src/node.ts';
import {
  DEV_MNEMONIC,
  POLL,
  TOKEN,
  devAccount,
  makeShard,
  quoteFor,
  registerHost,
  setup,
  type Fixture,
} from './helpers.ts';

describe('recovery-phrase account', () => {
  it('has the address @cairn/codec derives, for the dev phrase and a fresh one with a passphrase', async () => {
    const dev = accountFromRecoveryPhrase(DEV_MNEMONIC);
    expect(dev.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect(dev.address).toBe((await deriveUserKeys(DEV_MNEMONIC)).wallet.address);
    const phrase = generateRecoveryPhrase(24);
    const keys = await deriveUserKeys(phrase, 'extra words');
    const account = accountFromRecoveryPhrase(phrase, 'extra words');
    expect(account.address).toBe(keys.wallet.address);
    expect(accountFromPrivateKey(keys.wallet.privateKey).address).toBe(keys.wallet.address);
    expect(accountFromRecoveryPhrase(phrase).address).not.toBe(keys.wallet.address);
    // Typed sloppily: the same account, as the codec normalises.
    expect(
      accountFromRecoveryPhrase(`  ${phrase.toUpperCase().replace(/ /g, '\n ')} `).address,
    ).toBe(accountFromRecoveryPhrase(phrase).address);
  });

  it('refuses phrases with a bad checksum, unknown words or a wrong length', () => {
    const words = DEV_MNEMONIC.split(' ');
    expect(isValidRecoveryPhrase(DEV_MNEMONIC)).toBe(true);
    expect(isValidRecoveryPhrase([...words.slice(0, 11), 'test'].join(' '))).toBe(false);
    expect(isValidRecoveryPhrase([...words.slice(0, 11), 'junkk'].join(' '))).toBe(false);
    expect(isValidRecoveryPhrase(words.slice(0, 11).join(' '))).toBe(false);
    expect(() => accountFromRecoveryPhrase('test '.repeat(12))).toThrow(
      /not a valid recovery phrase/,
    );
  });
});

describe('Node accounts and config files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-keys-'));

  it('reads a key file that only its owner can read, and refuses others with a clear error', () => {
    const key = generatePrivateKey();
    const path = join(dir, 'host.key');
    writeFileSync(path, `${key}\n`, { mode: 0o600 });
    chmodSync(path, 0o600);
    expect(accountFromKeyFile(path).address).toBe(accountFromPrivateKey(key).address);
    expect(nodeAccount({ keyFile: path }).address).toBe(accountFromPrivateKey(key).address);
    chmodSync(path, 0o644);
    expect(() => accountFromKeyFile(path)).toThrow(KeyFileError);
    expect(() => accountFromKeyFile(path)).toThrow(/mode 644.*chmod 600/);
    chmodSync(path, 0o640);
    expect(() => accountFromKeyFile(path)).toThrow(/group or others/);
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'not a key', { mode: 0o600 });
    expect(() => accountFromKeyFile(bad)).toThrow(/0x followed by 64 hex digits/);
    expect(() => accountFromKeyFile(join(dir, 'missing.key'))).toThrow(/cannot be read/);
  });

  it('takes the account from a recovery phrase or a key file, not both', () => {
    expect(nodeAccount({ recoveryPhrase: DEV_MNEMONIC }).address).toBe(devAccount(0).address);
    expect(() => nodeAccount({})).toThrow(/recovery phrase or a key file/);
    expect(() => nodeAccount({ recoveryPhrase: DEV_MNEMONIC, keyFile: 'x' })).toThrow(/not both/);
  });

  it('loads and checks the config file', () => {
    const path = join(dir, 'chain.json');
    const config = {
      chainId: 31337,
      rpcUrl: 'http://127.0.0.1:8545',
      token: devAccount(1).address,
      market: devAccount(2).address,
      deployBlock: 1,
      periodSeconds: 30,
    };
    writeFileSync(path, JSON.stringify(config));
    expect(loadChainConfig(path)).toEqual(config);
    writeFileSync(path, JSON.stringify({ ...config, market: '0x1234' }));
    expect(() => loadChainConfig(path)).toThrow(/market must be a 0x address/);
    expect(() => loadChainConfig(join(dir, 'none.json'))).toThrow(/no chain config/);
  });
});

/** A fake extension on `target`: answers EIP-6963 requests with its provider. */
function installExtension(target: EventTarget, wallet: InjectedWallet) {
  const announce = () =>
    target.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: wallet }));
  target.addEventListener('eip6963:requestProvider', announce);
  return announce;
}

interface RpcOverride {
  (method: string, params: unknown): unknown;
}

/**
 * An EIP-1193 provider forwarding to anvil (which holds the dev accounts unlocked), with
 * per-method overrides: the stand-in for a wallet extension.
 */
function anvilProvider(rpcUrl: string, override: RpcOverride = () => undefined): EIP1193Provider {
  let id = 0;
  const request = async ({ method, params }: { method: string; params?: unknown }) => {
    const o = override(method, params);
    if (o !== undefined) return o instanceof Error ? Promise.reject(o) : o;
    const res = await fetch(rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: ++id,
        method: method === 'eth_requestAccounts' ? 'eth_accounts' : method,
        params: params ?? [],
      }),
    });
    const body = (await res.json()) as {
      result?: unknown;
      error?: { code: number; message: string };
    };
    if (body.error) throw Object.assign(new Error(body.error.message), body.error);
    return body.result;
  };
  return { request, on: () => {}, removeListener: () => {} } as unknown as EIP1193Provider;
}

const rejection = () => Object.assign(new Error('User rejected the request.'), { code: 4001 });

describe('injected wallets (EIP-6963, EIP-1193) against anvil', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await setup();
  });
  afterAll(() => f?.stop());

  it('discovers announced wallets once each, including ones that announce late', async () => {
    const target = new EventTarget();
    const info = (n: number) => ({
      uuid: `00000000-0000-4000-8000-00000000000${n}`,
      name: `Wallet ${n}`,
      icon: 'data:image/svg+xml,<svg/>',
      rdns: `org.example.w${n}`,
    });
    const provider = anvilProvider(f.anvil.rpcUrl);
    const announceA = installExtension(target, { info: info(1), provider });
    installExtension(target, { info: info(2), provider });
    announceA(); // a second announcement of the same wallet
    const found = await discoverInjectedWallets({ target, timeoutMs: 20 });
    expect(found.map((w) => w.info.name)).toEqual(['Wallet 1', 'Wallet 2']);
    target.dispatchEvent(new CustomEvent('eip6963:announceProvider', { detail: { junk: true } }));

    const seen: string[] = [];
    const stop = watchInjectedWallets((w) => seen.push(w.info.rdns), target);
    target.dispatchEvent(
      new CustomEvent('eip6963:announceProvider', { detail: { info: info(3), provider } }),
    );
    stop();
    target.dispatchEvent(
      new CustomEvent('eip6963:announceProvider', { detail: { info: info(4), provider } }),
    );
    expect(seen).toEqual(['org.example.w1', 'org.example.w2', 'org.example.w3']);
  });

  it('a discovered wallet signs permits and quotes and sends transactions; events are read and watched', async () => {
    const target = new EventTarget();
    const host = devAccount(6).address;
    const provider = anvilProvider(f.anvil.rpcUrl, (method) =>
      method === 'eth_requestAccounts' ? [host] : undefined,
    );
    installExtension(target, {
      info: { uuid: 'u', name: 'Test wallet', icon: 'data:,', rdns: 'org.example' },
      provider,
    });
    const [wallet] = await discoverInjectedWallets({ target, timeoutMs: 20 });
    const signer = await connectInjectedWallet(f.config, wallet!.provider, POLL);
    expect(signer.account).toBe(host);

    const seen: bigint[] = [];
    const unwatch = watchMarketEvents(f.reader, {
      eventName: 'HostRegistered',
      onLogs: (logs) => logs.forEach((l) => seen.push(l.args.stake)),
    });
    await drip(signer);
    const stake = 500n * TOKEN;
    const permit = await signPermit(signer, stake, 2n ** 40n); // eth_signTypedData_v4 in the wallet
    await register(signer, { peerId: '0xabcd', pricePerBytePeriod: 2n, stake, permit });
    expect(await getHost(f.reader, host)).toMatchObject({ stake, registered: true });
    const logs = await marketEvents(f.reader, { eventName: 'HostRegistered' });
    expect(logs.map((l) => [l.args.host, l.args.stake])).toEqual([[host, stake]]);
    for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    unwatch();
    expect(seen).toEqual([stake]);

    // A quote signed in the wallet hashes (viem) to what the contract computes.
    const shard = makeShard(5, 3000);
    const request = await quoteFor(f, signer, shard, 4, 10n * TOKEN);
    expect(hashQuote(f.config, f.client.account, request)).toBe(
      await quoteDigest(f.reader, f.client.account, request),
    );
  });

  it('wrong chain: refused at connection, or switched when asked; a wallet that moves later is refused before sending', async () => {
    let chainId = '0x1';
    const provider = anvilProvider(f.anvil.rpcUrl, (method, params) => {
      if (method === 'eth_chainId') return chainId;
      if (method === 'wallet_switchEthereumChain') {
        chainId = (params as [{ chainId: string }])[0].chainId;
        return null;
      }
      return undefined;
    });
    const err = await connectInjectedWallet(f.config, provider, POLL).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WrongChainError);
    expect(err).toMatchObject({ expected: 31337, actual: 1 });
    expect((err as Error).message).toMatch(/switch the wallet to chain 31337/);

    const signer = await connectInjectedWallet(f.config, provider, { ...POLL, switchChain: true });
    expect(chainId).toBe(toHex(31337));
    chainId = '0x5';
    await expect(drip(signer)).rejects.toBeInstanceOf(WrongChainError);
    await expect(signPermit(signer, 1n, 2n ** 40n)).rejects.toBeInstanceOf(WrongChainError);
  });

  it('rejected signature: connecting, signing a permit or quote, and sending (EIP-1193 code 4001)', async () => {
    const account = devAccount(7).address;
    await transferToken(f.deployer, account, 10n * TOKEN);
    let reject = new Set<string>(['eth_requestAccounts']);
    const provider = anvilProvider(f.anvil.rpcUrl, (method) =>
      reject.has(method) ? rejection() : method === 'eth_requestAccounts' ? [account] : undefined,
    );
    await expect(connectInjectedWallet(f.config, provider, POLL)).rejects.toBeInstanceOf(
      SignatureRejectedError,
    );
    reject = new Set(['eth_signTypedData_v4', 'eth_sendTransaction']);
    const signer = await connectInjectedWallet(f.config, provider, POLL);
    const permitErr = await signPermit(signer, TOKEN, 2n ** 40n).catch((e: unknown) => e);
    expect(permitErr).toBeInstanceOf(SignatureRejectedError);
    expect((permitErr as Error).message).toBe(
      'the signature for a token permit was rejected in the wallet',
    );
    await expect(
      signQuote(signer, f.client.account, {
        root: toHex(new Uint8Array(32)),
        size: 1n,
        leafCount: 1n,
        leafSize: 32,
        duration: 1,
        price: 1n,
        expiry: 1n,
        nonce: 1n,
      }),
    ).rejects.toBeInstanceOf(SignatureRejectedError);
    const before = await tokenBalance(f.reader, account);
    const sendErr = await transferToken(signer, f.client.account, TOKEN).catch((e: unknown) => e);
    expect(sendErr).toBeInstanceOf(SignatureRejectedError);
    expect(sendErr).toMatchObject({ action: 'transfer' });
    expect(await tokenBalance(f.reader, account)).toBe(before);
  });

  it('too little balance: tokens checked before signing or sending; gas money reported as ETH', async () => {
    const host = f.signer(devAccount(8));
    await transferToken(f.deployer, host.account, 5n * TOKEN);
    const nonce = await f.reader.publicClient.getTransactionCount({ address: host.account });
    const err = await register(host, {
      peerId: '0x01',
      pricePerBytePeriod: 1n,
      stake: 7n * TOKEN,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InsufficientBalanceError);
    expect(err).toMatchObject({ asset: 'CAIRN', needed: 7n * TOKEN, available: 5n * TOKEN });
    expect((err as Error).message).toBe(`${host.account} has 5 CAIRN, but this needs 7 CAIRN`);
    await expect(signPermit(host, 6n * TOKEN, 2n ** 40n)).rejects.toBeInstanceOf(
      InsufficientBalanceError,
    );
    expect(await f.reader.publicClient.getTransactionCount({ address: host.account })).toBe(nonce);

    // An account with tokens but no ETH for gas.
    const poor = f.signer(accountFromPrivateKey(generatePrivateKey()));
    await transferToken(f.deployer, poor.account, TOKEN);
    const gasErr = await transferToken(poor, f.client.account, TOKEN).catch((e: unknown) => e);
    expect(gasErr).toBeInstanceOf(InsufficientBalanceError);
    expect(gasErr).toMatchObject({ asset: 'ETH', available: 0n });
    expect((gasErr as Error).message).toMatch(/has 0 ETH, but this needs more to pay for gas/);
  });

  it('reverted transaction: the custom error decoded by name with its arguments, also from the token', async () => {
    const host = f.hosts[0]!;
    await registerHost(f, host, 100n * TOKEN, 1n);
    const err = await withdrawCollateral(host, 101n * TOKEN).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ContractRevertError);
    expect(err).toMatchObject({
      functionName: 'withdrawCollateral',
      reason: { name: 'InsufficientStake', args: [100n * TOKEN, 101n * TOKEN] },
    });
    expect((err as Error).message).toBe(
      `withdrawCollateral reverted: InsufficientStake(${100n * TOKEN}, ${101n * TOKEN}): the host's free stake does not cover the collateral`,
    );
    // No permit and no allowance: the token's error, raised inside the market call.
    const other = f.hosts[1]!;
    await transferToken(f.deployer, other.account, 10n * TOKEN);
    const tokenErr = await register(other, {
      peerId: '0x02',
      pricePerBytePeriod: 1n,
      stake: 10n * TOKEN,
      permit: NO_PERMIT,
    }).catch((e: unknown) => e);
    expect(tokenErr).toMatchObject({
      reason: {
        name: 'ERC20InsufficientAllowance',
        args: [f.config.market as Address, 0n, 10n * TOKEN],
      },
    });
  });
});
