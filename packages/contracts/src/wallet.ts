// Wallets, isomorphic: injected browser wallets found through EIP-6963 (EIP-1193 providers, used
// through viem's `custom` transport), and the built-in account derived from the user's recovery
// phrase exactly as @cairn/codec's `deriveUserKeys` derives its wallet key (BIP-39 seed, BIP-32
// path m/44'/60'/0'/0/0). Node-only bits (key files, config files) are in `./node.ts`.
import { sha256 } from '@noble/hashes/sha2.js';
import { custom, toHex, type Address, type EIP1193Provider, type Hex } from 'viem';
import {
  english,
  mnemonicToAccount,
  privateKeyToAccount,
  type HDAccount,
  type PrivateKeyAccount,
} from 'viem/accounts';
import { createChainSigner, type ChainSigner, type ClientOptions } from './chain.ts';
import { cairnChain, type CairnChainConfig } from './config.ts';
import { WrongChainError, toCairnError } from './errors.ts';

/** BIP-44 path of the built-in account; the same as @cairn/codec's WALLET_PATH. */
export const WALLET_PATH = "m/44'/60'/0'/0/0";

// ------------------------------------------------------------------ EIP-6963

/** What a wallet announces about itself (EIP-6963). */
export interface Eip6963ProviderInfo {
  uuid: string;
  name: string;
  /** data: URI of an image */
  icon: string;
  /** reverse-DNS id, e.g. io.metamask */
  rdns: string;
}

export interface InjectedWallet {
  info: Eip6963ProviderInfo;
  provider: EIP1193Provider;
}

function isAnnouncement(detail: unknown): detail is InjectedWallet {
  const d = detail as Partial<InjectedWallet> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.info?.uuid === 'string' &&
    typeof d.info.name === 'string' &&
    typeof d.provider?.request === 'function'
  );
}

/**
 * Calls `onWallet` for every wallet that announces itself (now and later, e.g. an extension that
 * loads late), once per uuid. `target` is `window` in a browser. Returns a function that stops.
 */
export function watchInjectedWallets(
  onWallet: (wallet: InjectedWallet) => void,
  target: EventTarget = globalThis,
): () => void {
  const seen = new Set<string>();
  const listener = (event: Event) => {
    const detail = (event as CustomEvent<unknown>).detail;
    if (!isAnnouncement(detail) || seen.has(detail.info.uuid)) return;
    seen.add(detail.info.uuid);
    onWallet({ info: { ...detail.info }, provider: detail.provider });
  };
  target.addEventListener('eip6963:announceProvider', listener);
  target.dispatchEvent(new Event('eip6963:requestProvider'));
  return () => target.removeEventListener('eip6963:announceProvider', listener);
}

/** The wallets that announce themselves within `timeoutMs` (EIP-6963), in announcement order. */
export async function discoverInjectedWallets(
  options: { target?: EventTarget; timeoutMs?: number } = {},
): Promise<InjectedWallet[]> {
  const wallets: InjectedWallet[] = [];
  const stop = watchInjectedWallets((w) => wallets.push(w), options.target);
  await new Promise((resolve) => setTimeout(resolve, options.timeoutMs ?? 200));
  stop();
  return wallets;
}

export interface ConnectOptions extends ClientOptions {
  /**
   * When the wallet is on another chain, ask it to switch (and to add the chain if it does not
   * know it) instead of failing with WrongChainError. @default false
   */
  switchChain?: boolean;
}

/**
 * Connects an EIP-1193 wallet: asks for its accounts (the wallet shows its prompt) and checks that
 * it is on the config's chain. Throws SignatureRejectedError when the user declines and
 * WrongChainError for another chain (unless `switchChain` and the wallet agrees).
 */
export async function connectInjectedWallet(
  config: CairnChainConfig,
  provider: EIP1193Provider,
  options: ConnectOptions = {},
): Promise<ChainSigner> {
  try {
    const accounts = (await provider.request({ method: 'eth_requestAccounts' })) as Address[];
    const account = accounts[0];
    if (!account) throw new Error('the wallet returned no account');
    const signer = createChainSigner(config, account, {
      ...options,
      walletTransport: custom(provider, { retryCount: 0 }),
    });
    const actual = await signer.walletClient.getChainId();
    if (actual !== config.chainId) {
      if (!options.switchChain) throw new WrongChainError(config.chainId, actual);
      try {
        await signer.walletClient.switchChain({ id: config.chainId });
      } catch (err) {
        if ((err as { code?: unknown }).code !== 4902 && !String(err).includes('4902')) throw err;
        await signer.walletClient.addChain({ chain: cairnChain(config) });
      }
      const now = await signer.walletClient.getChainId();
      if (now !== config.chainId) throw new WrongChainError(config.chainId, now);
    }
    return signer;
  } catch (err) {
    throw toCairnError(err, 'connecting the wallet');
  }
}

// ------------------------------------------------------------------ recovery phrase

function normalizePhrase(phrase: string): string {
  return phrase.normalize('NFKD').trim().toLowerCase().split(/\s+/u).join(' ');
}

/** True for a 12- or 24-word English BIP-39 phrase with a valid checksum (as the codec checks). */
export function isValidRecoveryPhrase(phrase: string): boolean {
  if (typeof phrase !== 'string') return false;
  const words = normalizePhrase(phrase).split(' ');
  if (words.length !== 12 && words.length !== 24) return false;
  let bits = '';
  for (const w of words) {
    const i = english.indexOf(w);
    if (i < 0) return false;
    bits += i.toString(2).padStart(11, '0');
  }
  const entropyBits = (words.length * 11 * 32) / 33;
  const entropy = new Uint8Array(entropyBits / 8);
  for (let i = 0; i < entropy.length; i++) entropy[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const hash = sha256(entropy);
  let check = '';
  for (const b of hash.subarray(0, 1)) check += b.toString(2).padStart(8, '0');
  return bits.slice(entropyBits) === check.slice(0, entropyBits / 32);
}

/**
 * The built-in account of a recovery phrase (and optional BIP-39 passphrase): the same key as
 * @cairn/codec's `deriveUserKeys(phrase, passphrase).wallet`. Throws a TypeError for a phrase
 * that is not 12 or 24 English BIP-39 words with a correct checksum.
 */
export function accountFromRecoveryPhrase(phrase: string, passphrase = ''): HDAccount {
  if (!isValidRecoveryPhrase(phrase))
    throw new TypeError(
      'not a valid recovery phrase: expected 12 or 24 English BIP-39 words with a correct checksum',
    );
  return mnemonicToAccount(normalizePhrase(phrase), { passphrase, path: WALLET_PATH });
}

/** An account from a 32-byte secp256k1 key (e.g. `deriveUserKeys(...).wallet.privateKey`). */
export function accountFromPrivateKey(key: Hex | Uint8Array): PrivateKeyAccount {
  const hex = typeof key === 'string' ? key : toHex(key);
  if (!/^0x[0-9a-fA-F]{64}$/.test(hex))
    throw new TypeError('a private key is 32 bytes (0x + 64 hex digits)');
  return privateKeyToAccount(hex);
}
