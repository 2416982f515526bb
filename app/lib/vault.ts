/**
 * Keeping the recovery phrase on this device, only when the user asks to ("keep this device
 * signed in"). The phrase is sealed with AES-GCM under a device key that WebCrypto generated as
 * non-extractable: the key object lives in IndexedDB, but its bytes can never be read by any
 * script, copied out of the browser profile as text, or sent anywhere. It is not a password: any
 * code running on this origin in this profile can unseal it, which is what "signed in" means.
 * Forgetting the device deletes both. Without the choice, the phrase lives only in memory and is
 * asked for again on the next visit.
 */
import { idbDelete, idbGet, idbSet } from './idb.ts';

interface Sealed {
  v: 1;
  key: CryptoKey;
  iv: Uint8Array<ArrayBuffer>;
  ciphertext: ArrayBuffer;
  /** The built-in account's address, shown on the unlock screen. */
  account: string;
  /** Which wallet pays uploads: the built-in account, or an injected one by its rdns. */
  wallet: string;
}

const KEY = 'phrase';
const AD = new TextEncoder().encode('cairn/app/vault/1');

export interface VaultEntry {
  phrase: string;
  account: string;
  wallet: string;
}

export async function saveToVault(entry: VaultEntry): Promise<void> {
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
    'encrypt',
    'decrypt',
  ]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: AD },
    key,
    new TextEncoder().encode(entry.phrase),
  );
  const sealed: Sealed = {
    v: 1,
    key,
    iv,
    ciphertext,
    account: entry.account,
    wallet: entry.wallet,
  };
  await idbSet('vault', KEY, sealed);
}

export async function loadFromVault(): Promise<VaultEntry | undefined> {
  const sealed = await idbGet<Sealed>('vault', KEY);
  if (sealed === undefined) return undefined;
  const plain = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: sealed.iv, additionalData: AD },
    sealed.key,
    sealed.ciphertext,
  );
  return {
    phrase: new TextDecoder().decode(plain),
    account: sealed.account,
    wallet: sealed.wallet,
  };
}

export async function updateVaultWallet(wallet: string): Promise<void> {
  const sealed = await idbGet<Sealed>('vault', KEY);
  if (sealed) await idbSet('vault', KEY, { ...sealed, wallet });
}

export async function forgetVault(): Promise<void> {
  await idbDelete('vault', KEY);
}
