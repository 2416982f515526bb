/**
 * The tab's libp2p node and what the network page shows. One node per tab: WebRTC to hosts,
 * WebSockets to the relays, a reservation on each relay so hosts and downloaders can reach this
 * tab (needed when it hosts). The node runs on the main thread because browsers give workers no
 * RTCPeerConnection; the heavy per-byte work (encryption, erasure coding, hashing) runs in the
 * codec worker (worker.ts).
 */
import { CairnNetwork, type CairnNetworkInit } from '@cairn/drive';
import { createCairnNode, type CairnNode } from '@cairn/peer';
import type { HostInfo } from '@cairn/drive';
import { allowPrivateAddresses, loadConfig, type AppConfig } from '../config.ts';

const ZERO_WALLET = /^0x0{40}$/i;

/** Which hosts an operation may use: paid ones (with a wallet), free ones, or any. */
export type HostKind = 'paid' | 'free' | 'any';

/** The drive's network view with a host filter (putFile asks `hosts()` for candidates). */
export class AppNetwork extends CairnNetwork {
  readonly kind: HostKind;
  constructor(init: CairnNetworkInit, kind: HostKind = 'any') {
    super(init);
    this.kind = kind;
  }
  override async hosts(...args: Parameters<CairnNetwork['hosts']>): Promise<HostInfo[]> {
    const all = await super.hosts(...args);
    if (this.kind === 'any') return all;
    return all.filter((h) => isPaidHost(h) === (this.kind === 'paid'));
  }
}

export function isPaidHost(h: { wallet?: string | undefined }): boolean {
  return h.wallet !== undefined && !ZERO_WALLET.test(h.wallet);
}

export interface PeerView {
  peer: string;
  address: string;
  transport: 'WebRTC (direct)' | 'relayed' | 'WebSockets' | 'other';
  relay: boolean;
}

export interface DirectoryHost {
  peerId: string;
  freeCapacity: number;
  price: bigint | undefined;
  paid: boolean;
}

class NetworkState {
  config = $state.raw<AppConfig | null>(null);
  status = $state<'idle' | 'starting' | 'online' | 'offline' | 'error'>('idle');
  error = $state<string | null>(null);
  peerId = $state<string | null>(null);
  peers = $state.raw<PeerView[]>([]);
  addresses = $state.raw<string[]>([]);
  directory = $state.raw<DirectoryHost[]>([]);
  online = $state(typeof navigator === 'undefined' ? true : navigator.onLine);

  #node: CairnNode | undefined;
  #identity: string | undefined;
  #starting: Promise<CairnNode> | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor() {
    if (typeof window !== 'undefined') {
      window.addEventListener('online', () => (this.online = true));
      window.addEventListener('offline', () => (this.online = false));
    }
  }

  async loadConfig(): Promise<AppConfig> {
    if (this.config?.fresh) return this.config;
    try {
      this.config = await loadConfig();
    } catch (err) {
      this.status = 'offline';
      this.error = `The relay could not be reached (${(err as Error).message}).`;
      throw err;
    }
    return this.config;
  }

  get node(): CairnNode | undefined {
    return this.#node;
  }

  /**
   * The node, started with `identity` (the 32-byte Ed25519 seed from the recovery phrase) or a
   * random one. A node with another identity is stopped and replaced.
   */
  async ensureNode(identity?: Uint8Array): Promise<CairnNode> {
    const want = identity ? hex(identity) : (this.#identity ?? 'random');
    if (this.#starting && (this.#identity === want || (!identity && this.#identity)))
      return this.#starting;
    const previous = this.#starting;
    this.#identity = want;
    this.#starting = (async () => {
      if (previous) await previous.then((n) => n.stop()).catch(() => {});
      const config = await this.loadConfig();
      this.status = 'starting';
      this.error = null;
      try {
        const node = await createCairnNode({
          relays: config.relays,
          ...(identity ? { privateKey: identity } : {}),
          allowPrivateAddresses: allowPrivateAddresses(),
          rtcConfiguration: { iceServers: [] },
        });
        this.#node = node;
        this.peerId = node.peerId.toString();
        this.status = 'online';
        this.#watch();
        return node;
      } catch (err) {
        this.status = 'error';
        this.error = (err as Error).message;
        this.#starting = undefined;
        throw err;
      }
    })();
    return this.#starting;
  }

  /** A network view for one operation (its own host filter and address cache). */
  async network(kind: HostKind = 'any', identity?: Uint8Array): Promise<AppNetwork> {
    const node = await this.ensureNode(identity);
    const config = this.config!;
    return new AppNetwork({ node, directories: config.relays, probeTimeoutMs: 30_000 }, kind);
  }

  async refreshDirectory(): Promise<void> {
    const net = await this.network();
    const hosts = await net.hosts({ limit: 100 });
    this.directory = hosts.map((h) => ({
      peerId: h.peerId,
      freeCapacity: h.freeCapacity,
      price: h.price,
      paid: isPaidHost(h),
    }));
  }

  #watch(): void {
    clearInterval(this.#timer);
    const update = () => {
      const node = this.#node;
      if (!node) return;
      const relays = new Set((this.config?.relays ?? []).map((r) => r.split('/p2p/').pop()));
      this.peers = node.libp2p.getConnections().map((c) => {
        const address = c.remoteAddr.toString();
        // A WebRTC connection's address names the relay it was signalled through, but its bytes
        // flow directly; a limited connection is one that really runs through a relay.
        const transport: PeerView['transport'] = address.includes('/webrtc')
          ? 'WebRTC (direct)'
          : c.limits !== undefined
            ? 'relayed'
            : address.includes('/ws')
              ? 'WebSockets'
              : 'other';
        const peer = c.remotePeer.toString();
        return { peer, address, transport, relay: relays.has(peer) };
      });
      this.addresses = node.getMultiaddrs().map((a) => a.toString());
    };
    update();
    this.#timer = setInterval(update, 2000);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    const starting = this.#starting;
    this.#starting = undefined;
    this.#node = undefined;
    this.#identity = undefined;
    this.status = 'idle';
    if (starting) await starting.then((n) => n.stop()).catch(() => {});
  }
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export const net = new NetworkState();
