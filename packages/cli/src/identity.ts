/**
 * A host's persistent libp2p identity: a key file (libp2p protobuf form, created with mode 0600)
 * or a file holding a BIP-39 recovery phrase, from which codec's `deriveUserKeys` gives the same
 * Ed25519 identity the user's browser would have (and the wallet that receives payment and, on a
 * paid network, signs the host's transactions when no key file is given).
 */
import { readFile } from 'node:fs/promises';
import { deriveUserKeys, normalizeRecoveryPhrase, validateRecoveryPhrase } from '@cairn/codec';
import { accountFromPrivateKey } from '@cairn/contracts';
import type { PrivateKeyAccount } from 'viem';
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { loadOrCreateIdentity } from '@cairn/relay';

export interface HostIdentity {
  privateKey: PrivateKey;
  /** Where it came from, for the start-up lines. */
  source: 'created' | 'key file' | 'recovery phrase';
  /** The phrase's wallet address when the identity is a recovery phrase. */
  wallet?: `0x${string}`;
  /** The phrase's wallet account (the same address), to sign with on a paid network. */
  account?: PrivateKeyAccount;
}

export async function loadHostIdentity(file: string): Promise<HostIdentity> {
  let text: string | undefined;
  try {
    const bytes = await readFile(file);
    // A phrase is short printable text; a protobuf key starts with a tag byte below 0x20.
    if (
      bytes.byteLength < 1024 &&
      bytes.every((b) => b >= 0x20 || b === 0x0a || b === 0x0d || b === 0x09)
    )
      text = bytes.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text != null && text.trim().split(/\s+/).length >= 12) {
    const phrase = normalizeRecoveryPhrase(text);
    if (!validateRecoveryPhrase(phrase))
      throw new Error(`${file} holds words but not a valid 12- or 24-word recovery phrase`);
    const keys = await deriveUserKeys(phrase);
    const privateKey = await generateKeyPairFromSeed('Ed25519', keys.peer.privateKey);
    const account = accountFromPrivateKey(keys.wallet.privateKey);
    keys.wallet.privateKey.fill(0);
    keys.driveKey.fill(0);
    return { privateKey, source: 'recovery phrase', wallet: keys.wallet.address, account };
  }
  const { privateKey, created } = await loadOrCreateIdentity(file);
  return { privateKey, source: created ? 'created' : 'key file' };
}
