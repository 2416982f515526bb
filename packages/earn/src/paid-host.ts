// A paid host, whole: the shard protocols over a store (admitting bytes only for a funded deal
// naming this host and that exact root, quoting prices signed with the host's wallet), the
// announcements to the relays' directories, the registration in the market (stake, price, peer
// id), and the daemon that answers the chain's challenges and collects the earnings. One
// composition for the browser tab, the PWA and the headless `cairn host`.
import {
  addCollateral,
  chainNow,
  drip,
  getHost,
  register,
  signPermit,
  tokenBalance,
  updateHost,
  InsufficientBalanceError,
  type ChainSigner,
  type HostRecord,
} from '@cairn/contracts';
import { dealAdmission, hostQuoter, type QuoterInit } from '@cairn/drive';
import { startHosting, type CairnNode, type Hosting, type HostingInit } from '@cairn/peer';
import type { ShardStore, ShardUsage } from '@cairn/store';
import { HostDaemon, type HostDaemonOptions, type HostEvent, type HostStatus } from './host.ts';
import type { StateStore } from './state.ts';
import type { Hex } from 'viem';

export interface PaidHostInit {
  node: CairnNode;
  store: ShardStore;
  /** Relay multiaddrs (with /p2p/<id>) whose directories hear the announcements. */
  directories: string[];
  /** The host's wallet: registers, signs quotes and proofs, receives the earnings. */
  signer: ChainSigner;
  /** Token base units per byte per period asked in quotes and registered in the market. */
  pricePerBytePeriod: bigint;
  /**
   * Collateral to hold in the market (token base units): registers with it, or tops the stake up
   * to it. Each deal locks part of it (the market's collateral share of the deal's price).
   */
  stake: bigint;
  /** On a local chain, ask the faucet when the wallet lacks the stake. @default true */
  useFaucet?: boolean;
  /** The daemon's cursor and records (survives a reload or a restart when persistent). */
  state?: StateStore;
  onEvent?: (event: HostEvent) => void;
  /**
   * Keep a shard in the store after the last deal paying for it ended (the client ended it, it
   * ran its course, it failed). @default false: the shard and its tree are deleted, the space
   * offered again, and a `shard-dropped` event says so.
   */
  keepEndedShards?: boolean;
  /** Everything else of the daemon (poll interval, claim cadence...). */
  daemon?: Omit<HostDaemonOptions, 'reader' | 'signer' | 'prove' | 'state' | 'onEvent'>;
  /** Quote limits (TTL, longest deal, largest shard). */
  quotes?: Omit<QuoterInit, 'signer' | 'pricePerBytePeriod'>;
  /** Passed to `startHosting` (announce cadence, timeouts, durability flags...). */
  hosting?: Omit<
    HostingInit,
    'store' | 'directories' | 'wallet' | 'price' | 'admit' | 'quoter' | 'onAnnounceError'
  >;
  onAnnounceError?: (err: Error, directory: string) => void;
}

export interface Registration {
  /** What had to be done on chain for this start. */
  action: 'registered' | 'updated' | 'topped-up' | 'unchanged';
  /** Tokens the faucet sent first (local chains). */
  dripped: bigint;
  record: HostRecord;
}

export interface PaidHostStatus extends HostStatus {
  /** The store: bytes committed (shards and their trees), reserved, the quota, shard count. */
  usage: ShardUsage;
  /** Shard bytes served to clients (downloads: the basis of paying for egress). */
  bytesServed: number;
  /** Shard bytes accepted from clients. */
  bytesReceived: number;
  /** The same, per client peer id, since this start. */
  traffic: Map<string, { bytesServed: number; bytesReceived: number }>;
}

export interface PaidHost {
  readonly hosting: Hosting;
  readonly daemon: HostDaemon;
  readonly registration: Registration;
  status(): Promise<PaidHostStatus>;
  stop(): Promise<void>;
}

/**
 * Makes sure the signer is a registered host with `peerId`, this price and at least `stake` held:
 * registers (stake pulled by permit), updates the record, or tops the stake up, as needed.
 * InsufficientBalanceError when the wallet cannot cover the stake (after the faucet, locally).
 */
export async function ensureRegistered(
  signer: ChainSigner,
  want: { peerId: string; pricePerBytePeriod: bigint; stake: bigint; useFaucet?: boolean },
): Promise<Registration> {
  const peerId = new TextEncoder().encode(want.peerId);
  const peerIdHex = `0x${[...peerId].map((b) => b.toString(16).padStart(2, '0')).join('')}`;
  let record = await getHost(signer, signer.account);
  const missing = record.registered ? want.stake - record.stake : want.stake;
  let dripped = 0n;
  if (missing > 0n) {
    const balance = await tokenBalance(signer, signer.account);
    if (balance < missing) {
      if ((want.useFaucet ?? true) && signer.config.faucet) {
        const before = balance;
        await drip(signer);
        dripped = (await tokenBalance(signer, signer.account)) - before;
      }
      const now = await tokenBalance(signer, signer.account);
      if (now < missing) throw new InsufficientBalanceError(signer.account, 'CAIRN', missing, now);
    }
  }
  // Permits expire by the chain's clock, not this machine's (they differ on a local chain moved
  // by time travel, or with a skewed clock): an expired permit is ignored and the pull fails.
  const deadline = async () => (await chainNow(signer)) + 3600n;
  let action: Registration['action'] = 'unchanged';
  if (!record.registered) {
    const permit = await signPermit(signer, want.stake, await deadline());
    await register(signer, {
      peerId,
      pricePerBytePeriod: want.pricePerBytePeriod,
      stake: want.stake,
      permit,
    });
    action = 'registered';
  } else {
    if (
      record.peerId.toLowerCase() !== peerIdHex ||
      record.pricePerBytePeriod !== want.pricePerBytePeriod
    ) {
      await updateHost(signer, { peerId, pricePerBytePeriod: want.pricePerBytePeriod });
      action = 'updated';
    }
    if (missing > 0n) {
      await addCollateral(signer, missing, await signPermit(signer, missing, await deadline()));
      action = 'topped-up';
    }
  }
  if (action !== 'unchanged') record = await getHost(signer, signer.account);
  return { action, dripped, record };
}

/**
 * Registers (or refreshes the registration), starts serving shards for funded deals only,
 * announces the host with its wallet and price, and starts the daemon that proves and collects.
 * `stop()` stops the daemon first (no proof is cut in half), then the protocols.
 */
export async function startPaidHost(init: PaidHostInit): Promise<PaidHost> {
  const { signer, node } = init;
  const registration = await ensureRegistered(signer, {
    peerId: node.peerId.toString(),
    pricePerBytePeriod: init.pricePerBytePeriod,
    stake: init.stake,
    ...(init.useFaucet === undefined ? {} : { useFaucet: init.useFaucet }),
  });
  const hosting = await startHosting(node, {
    ...init.hosting,
    store: init.store,
    directories: init.directories,
    wallet: signer.account,
    price: init.pricePerBytePeriod,
    admit: dealAdmission({ reader: signer, host: signer.account }),
    quoter: hostQuoter({
      ...init.quotes,
      signer,
      pricePerBytePeriod: init.pricePerBytePeriod,
    }),
    ...(init.onAnnounceError ? { onAnnounceError: init.onAnnounceError } : {}),
  });
  let daemon: HostDaemon;
  // A shard is deleted once no live deal of this host pays for its root any more.
  const dropUnpaid = async (e: { dealId: bigint; root: Hex }): Promise<void> => {
    if (daemon.liveDealsFor(e.root).length > 0) return;
    const id = e.root.slice(2).toLowerCase();
    try {
      const info = await init.store.info(id);
      if (!info) return;
      await hosting.service.delete(id);
      init.onEvent?.({ type: 'shard-dropped', root: e.root, dealId: e.dealId, bytes: info.size });
    } catch (error) {
      init.onEvent?.({
        type: 'error',
        where: 'drop',
        message: `could not delete the shard of ended deal ${e.dealId}: ${(error as Error).message}`,
        error,
      });
    }
  };
  try {
    daemon = new HostDaemon({
      ...init.daemon,
      reader: signer,
      signer,
      prove: (root, index) => hosting.service.proveLeaf(root, index),
      ...(init.state ? { state: init.state } : {}),
      onEvent: (e) => {
        init.onEvent?.(e);
        if (e.type === 'deal-ended' && init.keepEndedShards !== true) void dropUnpaid(e);
      },
    });
    await daemon.start();
  } catch (err) {
    await hosting.stop().catch(() => {});
    throw err;
  }
  return {
    hosting,
    daemon,
    registration,
    async status() {
      const traffic = hosting.service.traffic();
      let bytesServed = 0;
      let bytesReceived = 0;
      for (const t of traffic.values()) {
        bytesServed += t.bytesServed;
        bytesReceived += t.bytesReceived;
      }
      return {
        ...daemon.status(),
        usage: await hosting.service.usage(),
        bytesServed,
        bytesReceived,
        traffic,
      };
    },
    async stop() {
      await daemon.stop();
      await hosting.stop();
    },
  };
}
