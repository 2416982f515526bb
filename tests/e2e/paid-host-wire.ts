// What crosses between a Node test (or benchmark) and the paid browser host page
// (paid-host.ts): the page's API and its events, as JSON with bigints kept exact.
import type { CairnChainConfig } from '@cairn/contracts';
import type { HostEvent } from '@cairn/earn';
import type { ReadCounts } from '../../packages/earn/bench/counting-store.ts';

export const PAID_HOST_READY = 'cairn-paid-host-ready';
/** The function the Node side exposes to the page (page.exposeFunction) to receive its events. */
export const PAID_HOST_EVENT = 'cairnPaidHostEvent';

/** `window.cairnPaidHost` in the page. */
export interface PaidHostPage {
  /** Starts (or, after a reload, resumes) the host; the init and the answer are wire JSON. */
  start(init: string): Promise<string>;
  /** Stops the daemon, then the protocols, then the node. */
  stop(): Promise<void>;
  /** `startPaidHost`'s status (without the per-client traffic map), as wire JSON. */
  status(): Promise<string>;
  /** Store reads since the last reset (every read: proofs, and downloads if any). */
  reads(): ReadCounts;
  resetReads(): void;
}

declare global {
  interface Window {
    cairnPaidHost: PaidHostPage;
    [PAID_HOST_EVENT]?: (event: string) => void;
  }
}

export interface PaidHostPageInit {
  /** The relay's multiaddr (directory and WebRTC signalling). */
  relay: string;
  /** The store (OPFS directory or IndexedDB database) and the daemon state's key prefix. */
  name: string;
  quota: number;
  /** 64 hex digits: the libp2p identity's seed (the same after a reload). */
  peerSeed: string;
  /** The wallet's private key (0x hex): registers, signs quotes and proofs, earns. */
  key: `0x${string}`;
  chain: CairnChainConfig;
  pricePerBytePeriod: bigint;
  stake: bigint;
  /** The daemon's poll interval (default: the daemon's own, from the period length). */
  pollIntervalMs?: number;
  /** viem's polling interval (receipts) of the page's chain clients (default: the library's). */
  chainPollingMs?: number;
  /** @default 0: claim only when deals end */
  claimEveryPeriods?: number;
}

export interface PaidHostStarted {
  peerId: string;
  account: `0x${string}`;
  store: string;
  registration: string;
}

/** A daemon event as the page sends it: `at` is the page's Date.now() when it was emitted. */
export type WireHostEvent = WithoutError<HostEvent> & { at: number; host: string };
type WithoutError<E> = E extends unknown ? Omit<E, 'error'> : never;

/** JSON with bigints as `{ "$n": "digits" }` (and `error` fields, not serialisable, dropped). */
export function toWire(value: unknown): string {
  return JSON.stringify(value, (k, v: unknown) =>
    k === 'error' ? undefined : typeof v === 'bigint' ? { $n: v.toString() } : v,
  );
}

export function fromWire<T>(text: string): T {
  return JSON.parse(text, (_, v: unknown) =>
    v !== null && typeof v === 'object' && typeof (v as { $n?: unknown }).$n === 'string'
      ? BigInt((v as { $n: string }).$n)
      : v,
  ) as T;
}
