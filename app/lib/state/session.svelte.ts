/**
 * The signed-in drive: the recovery phrase and what it derives (drive key, built-in account, peer
 * identity), which wallet pays, and the chain clients. The phrase stays in memory; it is written
 * to this device only, sealed (vault.ts), when the user ticks "keep this device signed in".
 */
import {
  deriveUserKeys,
  generateRecoveryPhrase,
  validateRecoveryPhrase,
  type UserKeys,
} from '@cairn/codec';
import {
  accountFromPrivateKey,
  connectInjectedWallet,
  createChainReader,
  createChainSigner,
  drip,
  watchInjectedWallets,
  type ChainReader,
  type ChainSigner,
  type InjectedWallet,
} from '@cairn/contracts';
import { isLocalChain } from '../config.ts';
import { forgetVault, loadFromVault, saveToVault, updateVaultWallet } from '../vault.ts';
import { net } from './network.svelte.ts';

export const BUILT_IN = 'built-in';

class SessionState {
  status = $state<'loading' | 'new' | 'ready'>('loading');
  /** The built-in account of the phrase (hosting always signs with it). */
  account = $state<`0x${string}` | null>(null);
  /** The account that pays for uploads: the built-in one or an injected wallet's. */
  payer = $state<`0x${string}` | null>(null);
  wallet = $state<string>(BUILT_IN);
  walletName = $state('Built-in account');
  remembered = $state(false);
  injected = $state.raw<InjectedWallet[]>([]);
  error = $state<string | null>(null);

  #phrase: string | undefined;
  #keys: UserKeys | undefined;
  #reader: ChainReader | undefined;
  #builtIn: ChainSigner | undefined;
  #payer: ChainSigner | undefined;
  #listeners = new Set<() => void | Promise<void>>();

  constructor() {
    if (typeof window !== 'undefined')
      watchInjectedWallets((w) => (this.injected = [...this.injected, w]), window);
  }

  get keys(): UserKeys | undefined {
    return this.#keys;
  }
  get phrase(): string | undefined {
    return this.#phrase;
  }
  get reader(): ChainReader | undefined {
    return this.#reader;
  }
  /** Signs as the built-in account (hosting, index deals when it pays). */
  get builtInSigner(): ChainSigner | undefined {
    return this.#builtIn;
  }
  /** Signs uploads: the injected wallet when one is chosen, else the built-in account. */
  get payerSigner(): ChainSigner | undefined {
    return this.#payer;
  }

  /** Called after every sign-in (the drive loads its index then). */
  onReady(listener: () => void | Promise<void>): void {
    this.#listeners.add(listener);
  }

  newPhrase(): string {
    return generateRecoveryPhrase(12);
  }

  isValidPhrase(phrase: string): boolean {
    return validateRecoveryPhrase(phrase);
  }

  /** At start: sign in with the phrase kept on this device, if any. */
  async init(): Promise<void> {
    try {
      const kept = await loadFromVault();
      if (kept) {
        await this.signIn(kept.phrase, { remember: false, wallet: kept.wallet });
        this.remembered = true;
        return;
      }
    } catch (err) {
      this.error = `The drive kept on this device could not be opened: ${(err as Error).message}`;
    }
    this.status = 'new';
  }

  async signIn(phrase: string, options: { remember: boolean; wallet?: string }): Promise<void> {
    const keys = await deriveUserKeys(phrase);
    this.#phrase = phrase;
    this.#keys = keys;
    this.account = keys.wallet.address;
    const config = await net.loadConfig().catch(() => net.config);
    if (config?.chain) {
      const poll = { pollingInterval: isLocalChain(config.chain) ? 250 : 2000 };
      this.#reader = createChainReader(config.chain, poll);
      this.#builtIn = createChainSigner(
        config.chain,
        accountFromPrivateKey(keys.wallet.privateKey),
        { ...poll, reader: this.#reader },
      );
    }
    this.#payer = this.#builtIn;
    this.payer = this.account;
    this.wallet = BUILT_IN;
    this.walletName = 'Built-in account';
    if (options.remember) {
      await saveToVault({
        phrase,
        account: keys.wallet.address,
        wallet: options.wallet ?? BUILT_IN,
      });
      this.remembered = true;
    }
    this.status = 'ready';
    // The node takes the phrase's peer identity (hosts and the directory know this tab by it).
    net.ensureNode(keys.peer.privateKey).catch(() => {});
    for (const listener of this.#listeners) await listener();
    if (options.wallet && options.wallet !== BUILT_IN) {
      const w = this.injected.find((i) => i.info.rdns === options.wallet);
      if (w) await this.useInjected(w).catch(() => {});
    }
  }

  async useInjected(wallet: InjectedWallet): Promise<void> {
    const chain = net.config?.chain;
    if (!chain) throw new Error('this network has no chain to pay on');
    const signer = await connectInjectedWallet(chain, wallet.provider, { switchChain: true });
    this.#payer = signer;
    this.payer = signer.account;
    this.wallet = wallet.info.rdns;
    this.walletName = wallet.info.name;
    if (this.remembered) await updateVaultWallet(wallet.info.rdns);
  }

  async useBuiltIn(): Promise<void> {
    this.#payer = this.#builtIn;
    this.payer = this.account;
    this.wallet = BUILT_IN;
    this.walletName = 'Built-in account';
    if (this.remembered) await updateVaultWallet(BUILT_IN);
  }

  async remember(on: boolean): Promise<void> {
    if (on && this.#phrase && this.account) {
      await saveToVault({ phrase: this.#phrase, account: this.account, wallet: this.wallet });
    } else await forgetVault();
    this.remembered = on;
  }

  /**
   * Local chains only: gas money from the development node (anvil_setBalance) and test tokens
   * from the faucet, for the account that pays (and the built-in one, which hosts).
   */
  async getTestTokens(): Promise<void> {
    const chain = net.config?.chain ?? null;
    if (!isLocalChain(chain) || !this.#builtIn)
      throw new Error('test tokens exist only on a local chain');
    const accounts = new Set([
      this.#builtIn.account,
      this.#payer?.account ?? this.#builtIn.account,
    ]);
    for (const account of accounts) await this.ensureGas(account);
    await drip(this.#builtIn, this.#payer?.account ?? this.#builtIn.account);
  }

  /** Local chains: gives `account` 10 ETH for gas when it has less than 1. */
  async ensureGas(account: `0x${string}`): Promise<void> {
    const reader = this.#reader;
    if (!reader || !isLocalChain(reader.config)) return;
    const balance = await reader.publicClient.getBalance({ address: account });
    if (balance >= 10n ** 18n) return;
    await (
      reader.publicClient.request as (a: { method: string; params: unknown[] }) => Promise<unknown>
    )({
      method: 'anvil_setBalance',
      params: [account, `0x${(10n * 10n ** 18n).toString(16)}`],
    });
  }

  async signOut(): Promise<void> {
    await forgetVault();
    this.#phrase = undefined;
    this.#keys = undefined;
    this.#builtIn = undefined;
    this.#payer = undefined;
    this.#reader = undefined;
    this.account = null;
    this.payer = null;
    this.remembered = false;
    this.status = 'new';
    await net.stop();
  }
}

export const session = new SessionState();
