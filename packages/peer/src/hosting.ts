/**
 * A host, whole: the shard protocols over a store, plus announcing itself to the directories of
 * its relays (on start, then every `announceEveryMs`, and whenever its addresses change) so that
 * clients can find it. Used by the headless `cairn host` and by a browser tab that hosts.
 */
import type { ShardStore } from '@cairn/store';
import { isWebRTCAddress } from './addresses.ts';
import { announce, signAnnouncement } from './directory/index.ts';
import { HostService } from './host.ts';
import type { HostServiceInit } from './host.ts';
import { toMultiaddr } from './node.ts';
import type { CairnNode } from './node.ts';

export interface HostingInit extends Omit<HostServiceInit, 'store' | 'privateKey'> {
  store: ShardStore;
  /** Relay multiaddrs (with /p2p/<id>) whose directories hear the announcements. */
  directories: string[];
  /** EVM address that receives payment. @default the zero address (free hosting) */
  wallet?: string;
  /** Token base units per byte per period. @default 0 */
  price?: bigint;
  /** @default 5 minutes (the records live 3x as long) */
  announceEveryMs?: number;
  /**
   * Whether the store survives a restart: true for a disk host, or a browser tab whose
   * `navigator.storage.persist()` was granted. Announced, so clients can prefer such hosts.
   * @default false
   */
  persistent?: boolean;
  /** Since when this host has been up, Unix ms, announced as is. @default when startHosting ran */
  upSince?: number;
  /** An announcement that failed, e.g. a relay that is down (the next round tries again). */
  onAnnounceError?: (err: Error, directory: string) => void;
}

export interface Hosting {
  readonly service: HostService;
  /** Signs and sends a fresh record to every directory now; resolves when all have answered. */
  announceNow(): Promise<void>;
  stop(): Promise<void>;
}

const ZERO_WALLET = '0x0000000000000000000000000000000000000000';

export async function startHosting(node: CairnNode, init: HostingInit): Promise<Hosting> {
  const upSince = init.upSince ?? Date.now();
  if (!Number.isSafeInteger(upSince) || upSince < 0)
    throw new RangeError('upSince must be a Unix time in ms');
  const service = new HostService(node, { ...init, privateKey: node.privateKey });
  await service.start();
  const every = init.announceEveryMs ?? 5 * 60_000;
  let stopped = false;
  let round: Promise<void> = Promise.resolve();
  let announced = '';

  const once = async (): Promise<void> => {
    const addrs = node.getMultiaddrs().filter(isWebRTCAddress);
    if (addrs.length === 0) return; // not reachable yet: the address change will trigger a round
    const usage = await service.usage();
    const issuedAt = Date.now();
    const record = await signAnnouncement(node.privateKey, {
      multiaddrs: addrs.slice(0, 8).map(String),
      freeCapacity: BigInt(Math.max(0, usage.quota - usage.used)),
      price: init.price ?? 0n,
      wallet: init.wallet ?? ZERO_WALLET,
      issuedAt,
      expiresAt: issuedAt + 3 * every,
      persistent: init.persistent ?? false,
      upSince: Math.min(upSince, issuedAt),
    });
    announced = addrs.map(String).sort().join(' ');
    await Promise.all(
      init.directories.map((d) =>
        announce(node, toMultiaddr(d), record, { timeout: 10_000 }).catch((err: Error) =>
          init.onAnnounceError?.(err, d),
        ),
      ),
    );
  };
  const announceNow = (): Promise<void> => {
    round = round.then(() => (stopped ? undefined : once()));
    return round;
  };
  const onAddresses = (): void => {
    const now = node.getMultiaddrs().filter(isWebRTCAddress).map(String).sort().join(' ');
    if (now !== announced) void announceNow();
  };
  node.libp2p.addEventListener('self:peer:update', onAddresses);
  const timer = setInterval(() => void announceNow(), every);
  await announceNow();
  return {
    service,
    announceNow,
    async stop() {
      stopped = true;
      clearInterval(timer);
      node.libp2p.removeEventListener('self:peer:update', onAddresses);
      await round.catch(() => {});
      await service.stop();
    },
  };
}
