import { describe, expect, test } from 'vitest';
import { entropyToMnemonic, mnemonicToEntropy } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromHex, toHex } from '../src/bytes.ts';
import {
  WALLET_PATH,
  deriveUserKeys,
  generateRecoveryPhrase,
  normalizeRecoveryPhrase,
  recoveryPhraseToSeed,
  toChecksumAddress,
  validateRecoveryPhrase,
} from '../src/crypto/index.ts';
import { errorOf } from './helpers.ts';

const DEV = 'test test test test test test test test test test test junk';

// From the BIP-39 reference vectors (trezor/python-mnemonic vectors.json, passphrase "TREZOR").
const BIP39_VECTORS = [
  [
    '00000000000000000000000000000000',
    'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
    'c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04',
  ],
  [
    '7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f',
    'legal winner thank year wave sausage worth useful legal winner thank yellow',
    '2e8905819b8723fe2c1d161860e5ee1830318dbf49a83bd451cfb8440c28bd6fa457fe1296106559a3c80937a1c1069be3a3a5bd381ee6260e8d9739fce1f607',
  ],
  [
    '0000000000000000000000000000000000000000000000000000000000000000',
    'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon art',
    'bda85446c68413707090a52022edd26a1c9462295029f2e60cd7c4f2bbd3097170af7a4d73245cafa9c3cca8d561a7c3de6f5d4a10be8ed2a5e608d68f92fcc8',
  ],
] as const;

describe('BIP-39 recovery phrase', () => {
  test.each(BIP39_VECTORS)('reference vector %s', async (entropy, mnemonic, seed) => {
    expect(entropyToMnemonic(fromHex(entropy), wordlist)).toBe(mnemonic);
    expect(toHex(mnemonicToEntropy(mnemonic, wordlist))).toBe(entropy);
    expect(validateRecoveryPhrase(mnemonic)).toBe(true);
    expect(toHex(await recoveryPhraseToSeed(mnemonic, 'TREZOR'))).toBe(seed);
  });

  test('generated phrases have 12 (default) or 24 words and validate', () => {
    const twelve = generateRecoveryPhrase();
    const twentyFour = generateRecoveryPhrase(24);
    expect(twelve.split(' ')).toHaveLength(12);
    expect(twentyFour.split(' ')).toHaveLength(24);
    expect(validateRecoveryPhrase(twelve)).toBe(true);
    expect(validateRecoveryPhrase(twentyFour)).toBe(true);
    expect(generateRecoveryPhrase()).not.toBe(twelve);
    expect(() => generateRecoveryPhrase(18 as 12)).toThrow(RangeError);
  });

  test('whitespace and case are normalised', async () => {
    const messy = `  Test\ttest TEST  test\ntest test test test test test test   Junk \n`;
    expect(normalizeRecoveryPhrase(messy)).toBe(DEV);
    expect(validateRecoveryPhrase(messy)).toBe(true);
    expect(toHex((await deriveUserKeys(messy)).driveKey)).toBe(
      toHex((await deriveUserKeys(DEV)).driveKey),
    );
  });

  test('invalid phrases are rejected', async () => {
    const bad = [
      '',
      'test',
      'test test test test test test test test test test test test', // bad checksum
      'test test test test test test test test test test test jumk', // not a word
      'test test test test test test test test test test test junk junk', // 13 words
      'legal winner thank year wave sausage worth useful legal winner thank yellow legal winner thank',
      'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about', // 15 words: valid BIP-39, not accepted
    ];
    for (const phrase of bad) {
      expect(validateRecoveryPhrase(phrase), phrase).toBe(false);
      expect((await errorOf(deriveUserKeys(phrase))).name).toBe('InvalidRecoveryPhraseError');
    }
    expect(validateRecoveryPhrase(42 as unknown as string)).toBe(false);
  });
});

describe('user keys', () => {
  test('the development mnemonic gives the well-known first account', async () => {
    const keys = await deriveUserKeys(DEV);
    expect(keys.wallet.path).toBe(WALLET_PATH);
    expect(keys.wallet.path).toBe("m/44'/60'/0'/0/0");
    expect(keys.wallet.address).toBe('0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266');
    expect(toHex(keys.wallet.privateKey)).toBe(
      'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
    );
  });

  test('the reference mnemonic gives its known first account', async () => {
    const keys = await deriveUserKeys(BIP39_VECTORS[0][1]);
    expect(keys.wallet.address).toBe('0x9858EfFD232B4033E47d90003D41EC34EcaEda94');
  });

  // Computed independently (Python: hashlib PBKDF2 + RFC 5869 HKDF, `cryptography` Ed25519).
  test('drive key and peer identity match an independent derivation', async () => {
    const keys = await deriveUserKeys(DEV);
    expect(toHex(keys.driveKey)).toBe(
      '0330138f0e7ee763534bea8ee4cbb11e3b972da4b7001091f399080779b72dd0',
    );
    expect(toHex(keys.peer.privateKey)).toBe(
      '566b3143ce8f2aed23de4528c991730f6238a69aa580214a4fc2a96f2a30ac7f',
    );
    expect(toHex(keys.peer.publicKey)).toBe(
      '523928fb2ec41f0beea73c4ae2cbb7b369def8e3830058e1f4f1df7d7012d415',
    );
  });

  test('deterministic, distinct, and changed by the passphrase', async () => {
    const phrase = generateRecoveryPhrase();
    const a = await deriveUserKeys(phrase);
    const b = await deriveUserKeys(phrase);
    expect(toHex(a.driveKey)).toBe(toHex(b.driveKey));
    expect(toHex(a.wallet.privateKey)).toBe(toHex(b.wallet.privateKey));
    expect(toHex(a.peer.privateKey)).toBe(toHex(b.peer.privateKey));
    expect(a.wallet.address).toBe(b.wallet.address);

    const secrets = [a.driveKey, a.wallet.privateKey, a.peer.privateKey].map(toHex);
    expect(new Set(secrets).size).toBe(3);
    for (const s of secrets) expect(s).toHaveLength(64);
    expect(a.peer.publicKey).toHaveLength(32);
    expect(toHex(ed25519.getPublicKey(a.peer.privateKey))).toBe(toHex(a.peer.publicKey));
    const signature = ed25519.sign(new Uint8Array([1, 2, 3]), a.peer.privateKey);
    expect(ed25519.verify(signature, new Uint8Array([1, 2, 3]), a.peer.publicKey)).toBe(true);

    const c = await deriveUserKeys(phrase, 'another passphrase');
    expect(toHex(c.driveKey)).not.toBe(toHex(a.driveKey));
    expect(c.wallet.address).not.toBe(a.wallet.address);
    expect(toHex(c.peer.publicKey)).not.toBe(toHex(a.peer.publicKey));
  });

  test('EIP-55 checksum addresses', () => {
    // From the EIP-55 specification's examples.
    for (const address of [
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359',
      '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB',
      '0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb',
    ]) {
      expect(toChecksumAddress(fromHex(address.toLowerCase()))).toBe(address);
    }
    expect(toChecksumAddress(new Uint8Array(20))).toBe(
      '0x0000000000000000000000000000000000000000',
    );
    expect(() => toChecksumAddress(new Uint8Array(19))).toThrow(RangeError);
  });
});
