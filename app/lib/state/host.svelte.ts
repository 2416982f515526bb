/**
 * Hosting from this tab: a store in the browser's storage (OPFS, else IndexedDB) with the quota
 * the user offers, and `startPaidHost` (registration with a stake, quotes, deal admission,
 * announcements, and the daemon that proves and collects). Always signed by the phrase's
 * built-in account: proofs are sent without asking, which an injected wallet cannot do.
 */
import { LocalStorageState, startPaidHost, type HostEvent, type PaidHost } from '@cairn/earn';
import { chooseBrowserStore } from '@cairn/store/browser';
import { isLocalChain } from '../config.ts';
import { net } from './network.svelte.ts';
import { session } from './session.svelte.ts';
import { describe } from './transfer.svelte.ts';
import { bytes } from '../format.ts';

const TOKEN = 10n ** 18n;
/** Base units per byte per period asked in quotes. */
const PRICE_PER_BYTE_PERIOD = 1n;
/** Collateral kept in the market; each deal locks part of it. */
const STAKE = 100n * TOKEN;

export interface HostStats {
  shards: number;
  used: number;
  quota: number;
  liveDeals: number;
  proofs: number;
  misses: number;
  earned: bigint;
  withdrawn: bigint;
  bytesServed: number;
}

export interface EarningPoint {
  t: number;
  /** Claimed earnings, token base units (decimal string). */
  earned: string;
}

class HostState {
  status = $state<'off' | 'starting' | 'on' | 'stopping' | 'error'>('off');
  step = $state<string | null>(null);
  error = $state<string | null>(null);
  offered = $state(1e9);
  /** Bytes the browser lets this site use, and uses now. */
  quota = $state(0);
  usage = $state(0);
  persisted = $state(false);
  persistAsked = $state(false);
  stats = $state.raw<HostStats | null>(null);
  history = $state.raw<EarningPoint[]>([]);
  activity = $state.raw<{ t: number; text: string }[]>([]);
  /** Token base units per period the live deals pay. */
  ratePerPeriod = $state(0n);

  #host: PaidHost | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #rates = new Map<bigint, bigint>();
  #releaseLock: (() => void) | undefined;

  constructor() {
    if (typeof localStorage !== 'undefined') {
      const offered = Number(localStorage.getItem('cairn-host-offered'));
      if (offered > 0) this.offered = offered;
    }
  }

  get running(): boolean {
    return this.status === 'on';
  }

  async refreshStorage(): Promise<void> {
    const s = navigator.storage;
    this.persisted = (await s?.persisted?.()) ?? false;
    const estimate = (await s?.estimate?.()) ?? {};
    this.quota = estimate.quota ?? 0;
    this.usage = estimate.usage ?? 0;
  }

  /** Asks the browser not to evict this site's storage (it may ask the user, or decide alone). */
  async requestPersist(): Promise<boolean> {
    this.persistAsked = true;
    this.persisted = (await navigator.storage?.persist?.().catch(() => false)) ?? false;
    return this.persisted;
  }

  setOffered(bytes: number): void {
    this.offered = bytes;
    localStorage.setItem('cairn-host-offered', String(bytes));
  }

  #history(): EarningPoint[] {
    try {
      return JSON.parse(localStorage.getItem(this.#historyKey()) ?? '[]') as EarningPoint[];
    } catch {
      return [];
    }
  }

  #historyKey(): string {
    return `cairn-host-earnings:${session.account ?? ''}`;
  }

  async start(): Promise<void> {
    if (this.status === 'on' || this.status === 'starting') return;
    const signer = session.builtInSigner;
    const keys = session.keys;
    const config = net.config;
    if (!signer || !keys || !config?.chain) {
      this.status = 'error';
      this.error = 'Hosting is paid on a chain, and this network has none configured.';
      return;
    }
    this.status = 'starting';
    this.error = null;
    this.history = this.#history();
    // One tab hosts per drive: two nodes with one identity would fight over the relay slot.
    if (!(await this.#lock(`cairn-host-${signer.account.toLowerCase()}`))) {
      this.status = 'error';
      this.error = 'This drive is already hosting in another tab or window of this browser.';
      return;
    }
    try {
      if (isLocalChain(config.chain)) {
        this.step = 'Getting gas money from the local chain';
        await session.ensureGas(signer.account);
      }
      this.step = 'Connecting to the network';
      const node = await net.ensureNode(keys.peer.privateKey);
      this.step = 'Opening storage';
      const store = await chooseBrowserStore({
        name: `cairn-host-${signer.account.toLowerCase()}`,
        quota: this.offered,
      });
      this.step = 'Registering as a host (stake held in the market)';
      const local = isLocalChain(config.chain);
      this.#host = await startPaidHost({
        node,
        store,
        directories: config.relays,
        signer,
        pricePerBytePeriod: PRICE_PER_BYTE_PERIOD,
        stake: STAKE,
        state: new LocalStorageState(),
        // Announced: clients rank hosts whose storage survives a browser cleanup higher.
        hosting: { persistent: this.persisted },
        // On a local chain, periods are seconds long: claim every period so earnings show.
        ...(local ? { daemon: { claimEveryPeriods: 1 } } : {}),
        onEvent: (e) => this.#onEvent(e),
      });
      this.status = 'on';
      this.step = null;
      this.#log(
        this.#host.registration.action === 'registered'
          ? 'Registered as a host'
          : 'Hosting resumed',
      );
      await this.#poll();
      this.#timer = setInterval(() => void this.#poll(), 3000);
    } catch (err) {
      this.status = 'error';
      this.step = null;
      this.error = describe(err);
      this.#releaseLock?.();
    }
  }

  #lock(name: string): Promise<boolean> {
    if (!navigator.locks) return Promise.resolve(true);
    return new Promise((resolve) => {
      void navigator.locks.request(name, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(false);
          return;
        }
        resolve(true);
        return new Promise<void>((release) => (this.#releaseLock = release));
      });
    });
  }

  async stop(): Promise<void> {
    if (!this.#host) return;
    this.status = 'stopping';
    clearInterval(this.#timer);
    try {
      await this.#host.stop();
    } finally {
      this.#host = undefined;
      this.status = 'off';
      this.#releaseLock?.();
    }
  }

  async #poll(): Promise<void> {
    const host = this.#host;
    if (!host) return;
    try {
      const s = await host.status();
      this.stats = {
        // The store also counts each shard's Merkle-tree sidecar (peer's TREE_META entries).
        shards: Math.ceil(s.usage.shards / 2),
        used: s.usage.used,
        quota: s.usage.quota,
        liveDeals: s.liveDeals,
        proofs: s.proofs,
        misses: s.misses,
        earned: s.earned,
        withdrawn: s.withdrawn,
        bytesServed: s.bytesServed,
      };
      const last = this.history.at(-1);
      if (!last || last.earned !== s.earned.toString() || Date.now() - last.t > 60_000) {
        this.history = [...this.history, { t: Date.now(), earned: s.earned.toString() }].slice(
          -500,
        );
        localStorage.setItem(this.#historyKey(), JSON.stringify(this.history));
      }
    } catch (err) {
      this.error = describe(err);
    }
  }

  #onEvent(e: HostEvent): void {
    switch (e.type) {
      case 'deal':
        this.#rates.set(e.dealId, e.price / BigInt(Math.max(1, e.duration)));
        this.#log(`New deal #${e.dealId}`);
        break;
      case 'deal-ended':
        this.#rates.delete(e.dealId);
        this.#log(`Deal #${e.dealId} ended (${e.reason})`);
        break;
      case 'shard-dropped':
        this.#log(`Freed ${bytes(e.bytes)}: deal #${e.dealId} ended, nothing pays for that piece`);
        break;
      case 'proof-submitted':
        this.#log(`Proved deal #${e.dealId} for period ${e.period}`);
        break;
      case 'missed':
        this.#log(`Missed a proof for deal #${e.dealId}: ${e.message}`);
        break;
      case 'claimed':
        this.#log(`Collected earnings`);
        break;
      case 'error':
        this.#log(`Problem: ${e.message}`);
        break;
      default:
        return;
    }
    this.ratePerPeriod = [...this.#rates.values()].reduce((a, b) => a + b, 0n);
  }

  #log(text: string): void {
    this.activity = [{ t: Date.now(), text }, ...this.activity].slice(0, 50);
    void this.#poll();
  }
}

export const host = new HostState();
