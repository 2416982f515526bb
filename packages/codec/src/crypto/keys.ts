/**
 * Everything a user owns derives from one BIP-39 recovery phrase: the drive key (encrypts the
 * user's file index), the wallet account (BIP-32, EVM) and the peer identity (Ed25519). Each comes
 * from its own one-way path out of the BIP-39 seed, so no derived key reveals another or the seed.
 */
import { generateMnemonic, mnemonicToSeedWebcrypto, validateMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { HDKey } from '@scure/bip32';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { InvalidRecoveryPhraseError } from '../errors.ts';
import { toHex, utf8 } from '../bytes.ts';
import { HKDF_INFO, deriveBytes } from './hkdf.ts';

/** BIP-44 path of the built-in EVM account (the first account of coin type 60). */
export const WALLET_PATH = "m/44'/60'/0'/0/0";
export const DRIVE_KEY_SIZE = 32;
export const RECOVERY_PHRASE_WORDS = [12, 24] as const;

export interface UserKeys {
  /** 32 bytes; encrypts the user's file index. */
  driveKey: Uint8Array;
  /** secp256k1 account at WALLET_PATH; privateKey is 32 bytes. */
  wallet: { privateKey: Uint8Array; address: `0x${string}`; path: string };
  /**
   * Ed25519 identity: privateKey is the 32-byte RFC 8032 seed, publicKey 32 bytes. For libp2p:
   * `generateKeyPairFromSeed('Ed25519', peer.privateKey)` from @libp2p/crypto/keys.
   */
  peer: { privateKey: Uint8Array; publicKey: Uint8Array };
}

/**
 * Canonical form of a typed phrase: Unicode NFKD (as BIP-39 specifies), lower case, words
 * separated by single spaces, no leading or trailing whitespace.
 */
export function normalizeRecoveryPhrase(phrase: string): string {
  if (typeof phrase !== 'string') throw new TypeError('phrase must be a string');
  return phrase.normalize('NFKD').trim().toLowerCase().split(/\s+/u).join(' ');
}

/** A fresh phrase from 128 (12 words) or 256 (24 words) bits of entropy. */
export function generateRecoveryPhrase(words: 12 | 24 = 12): string {
  if (words !== 12 && words !== 24)
    throw new RangeError(`words must be 12 or 24, got ${String(words)}`);
  return generateMnemonic(wordlist, words === 12 ? 128 : 256);
}

/** True for a 12- or 24-word English BIP-39 phrase with a valid checksum (after normalising). */
export function validateRecoveryPhrase(phrase: string): boolean {
  if (typeof phrase !== 'string') return false;
  const normalized = normalizeRecoveryPhrase(phrase);
  const count = normalized === '' ? 0 : normalized.split(' ').length;
  if (count !== 12 && count !== 24) return false;
  return validateMnemonic(normalized, wordlist);
}

/** EIP-55 mixed-case checksum address from a 20-byte address. */
export function toChecksumAddress(address: Uint8Array): `0x${string}` {
  if (!(address instanceof Uint8Array) || address.length !== 20) {
    throw new RangeError('address must be 20 bytes');
  }
  const lower = toHex(address);
  const hash = toHex(keccak_256(utf8.encode(lower)));
  let out = '0x';
  for (let i = 0; i < lower.length; i++) {
    out += parseInt(hash[i]!, 16) >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  }
  return out as `0x${string}`;
}

/** EVM address of a secp256k1 private key: last 20 bytes of keccak-256(uncompressed point without 0x04). */
export function evmAddress(privateKey: Uint8Array): `0x${string}` {
  const publicKey = secp256k1.getPublicKey(privateKey, false);
  return toChecksumAddress(keccak_256(publicKey.subarray(1)).subarray(12));
}

/**
 * The 64-byte BIP-39 seed (PBKDF2-HMAC-SHA512, 2048 rounds, salt "mnemonic" || passphrase) of a
 * valid phrase. Throws InvalidRecoveryPhraseError when the phrase is not valid.
 */
export async function recoveryPhraseToSeed(
  phrase: string,
  passphrase: string = '',
): Promise<Uint8Array> {
  if (!validateRecoveryPhrase(phrase)) {
    throw new InvalidRecoveryPhraseError(
      'not a valid recovery phrase: expected 12 or 24 English BIP-39 words with a correct checksum',
    );
  }
  if (typeof passphrase !== 'string') throw new TypeError('passphrase must be a string');
  return mnemonicToSeedWebcrypto(normalizeRecoveryPhrase(phrase), passphrase);
}

/**
 * Derives the drive key, wallet and peer identity from a phrase (and the optional BIP-39
 * passphrase, which yields an entirely different set of keys).
 * Throws InvalidRecoveryPhraseError when the phrase is not a valid 12- or 24-word phrase.
 */
export async function deriveUserKeys(phrase: string, passphrase: string = ''): Promise<UserKeys> {
  const seed = await recoveryPhraseToSeed(phrase, passphrase);
  try {
    const [driveKey, peerSeed] = await Promise.all([
      deriveBytes(seed, undefined, HKDF_INFO.driveKey, DRIVE_KEY_SIZE),
      deriveBytes(seed, undefined, HKDF_INFO.peerIdentity, 32),
    ]);
    const root = HDKey.fromMasterSeed(seed);
    const account = root.derive(WALLET_PATH);
    const walletKey = account.privateKey;
    if (walletKey === null) throw new Error('BIP-32 derivation returned no private key');
    const privateKey = walletKey.slice();
    account.wipePrivateData();
    root.wipePrivateData();
    return {
      driveKey,
      wallet: { privateKey, address: evmAddress(privateKey), path: WALLET_PATH },
      peer: { privateKey: peerSeed, publicKey: ed25519.getPublicKey(peerSeed) },
    };
  } finally {
    seed.fill(0);
  }
}
