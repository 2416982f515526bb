/**
 * One libp2p node factory for browsers and Node: WebRTC (peer-to-peer data), WebSockets (to
 * relays; also a listener in Node), circuit relay v2 (a reservation on a relay, used for WebRTC
 * signalling only), noise, yamux, identify, ping.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { generateKeyPair, generateKeyPairFromSeed } from '@libp2p/crypto/keys';
import { identify } from '@libp2p/identify';
import type { Identify } from '@libp2p/identify';
import { FaultTolerance } from '@libp2p/interface';
import type {
  AbortOptions,
  Connection,
  Libp2p,
  PeerId,
  PrivateKey,
  Stream,
  StreamHandler,
  StreamHandlerOptions,
} from '@libp2p/interface';
import { ping } from '@libp2p/ping';
import type { Ping } from '@libp2p/ping';
import { webRTC } from '@libp2p/webrtc';
import { webSockets } from '@libp2p/websockets';
import { multiaddr } from '@multiformats/multiaddr';
import type { Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import { isWebRTCAddress, peerIdText } from './addresses.ts';
import { _abortReason } from './channel.ts';
import { _DialQueue } from './dial-queue.ts';
import { _patchNodeWebRTC } from './webrtc-node.ts';
import type { DialQueueInit } from './dial-queue.ts';

export interface CairnNodeInit {
  /** An Ed25519 key, or a 32-byte seed (codec: `deriveUserKeys(...).peer.privateKey`). Random if absent. */
  privateKey?: PrivateKey | Uint8Array;
  /** Addresses to listen on, e.g. `/ip4/127.0.0.1/tcp/0/ws` (Node only). */
  listen?: string[];
  /** Relay multiaddrs (with /p2p/<id>) to reserve a slot on: the node becomes reachable through them. */
  relays?: string[];
  /** Accept WebRTC connections (signalled through a relay reservation). @default true */
  webrtc?: boolean;
  /** @default { iceServers: [] } (no STUN: nothing but the peers is contacted) */
  rtcConfiguration?: RTCConfiguration;
  /**
   * Allow dialling ws:// and private/loopback addresses, which browser builds refuse by default.
   * For local and test setups. @default false
   */
  allowPrivateAddresses?: boolean;
  /** WebRTC dials: a few at a time (`concurrency`), each attempt with a timeout, retried. */
  dialQueue?: DialQueueInit;
  /** Start the node before returning. @default true */
  start?: boolean;
}

export interface CairnNode {
  readonly libp2p: Libp2p<{ identify: Identify; ping: Ping }>;
  readonly peerId: PeerId;
  readonly privateKey: PrivateKey;
  /** Current listen addresses (relay circuit and WebRTC ones appear once the reservation is made). */
  getMultiaddrs(): Multiaddr[];
  /** Resolves with the first own address matching `predicate` (waits for address changes). */
  waitForMultiaddr(
    predicate: (ma: Multiaddr) => boolean,
    options?: AbortOptions,
  ): Promise<Multiaddr>;
  /** Dials a peer; WebRTC addresses go through the dial queue; open direct connections are reused. */
  dial(target: PeerId | Multiaddr | Multiaddr[], options?: AbortOptions): Promise<Connection>;
  /** A stream on a direct (not relay-limited) connection when one is open or can be dialled. */
  dialProtocol(
    target: PeerId | Multiaddr | Multiaddr[],
    protocols: string | string[],
    options?: AbortOptions,
  ): Promise<Stream>;
  handle(protocol: string, handler: StreamHandler, options?: StreamHandlerOptions): Promise<void>;
  unhandle(protocol: string): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function toPrivateKey(key: CairnNodeInit['privateKey']): Promise<PrivateKey> {
  if (key === undefined) return generateKeyPair('Ed25519');
  if (key instanceof Uint8Array) {
    if (key.byteLength !== 32) throw new RangeError('privateKey seed must be 32 bytes');
    return generateKeyPairFromSeed('Ed25519', key);
  }
  return key;
}

export async function createCairnNode(init: CairnNodeInit = {}): Promise<CairnNode> {
  const privateKey = await toPrivateKey(init.privateKey);
  const useWebRTC = init.webrtc ?? true;
  if (useWebRTC) await _patchNodeWebRTC();
  const listen = [
    ...(init.listen ?? []),
    ...(init.relays ?? []).map((r) => `${r.replace(/\/$/, '')}/p2p-circuit`),
    ...(useWebRTC ? ['/webrtc'] : []),
  ];
  const libp2p = await createLibp2p({
    privateKey,
    start: false,
    addresses: { listen },
    transports: [
      webSockets(),
      circuitRelayTransport(),
      ...(useWebRTC
        ? [webRTC({ rtcConfiguration: init.rtcConfiguration ?? { iceServers: [] } })]
        : []),
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater:
      init.allowPrivateAddresses === true ? { denyDialMultiaddr: async () => false } : undefined,
    // A relay that refuses a reservation (full, gone) must not stop the node from starting.
    transportManager: { faultTolerance: FaultTolerance.NO_FATAL },
    // Busy connections miss pings; aborting them killed transfers mid-shard.
    connectionMonitor: { abortConnectionOnPingFailure: false },
    services: { identify: identify(), ping: ping() },
  });
  const queue = new _DialQueue(init.dialQueue);
  const dialing = new Map<string, Promise<Connection>>();

  const directConnection = (peer: PeerId): Connection | undefined =>
    libp2p.getConnections(peer).find((c) => c.status === 'open' && c.limits == null);

  const node: CairnNode = {
    libp2p,
    peerId: libp2p.peerId,
    privateKey,
    getMultiaddrs: () => libp2p.getMultiaddrs(),
    async waitForMultiaddr(predicate, options = {}) {
      const found = (): Multiaddr | undefined => libp2p.getMultiaddrs().find(predicate);
      const now = found();
      if (now !== undefined) return now;
      const signal = options.signal ?? AbortSignal.timeout(30_000);
      return new Promise<Multiaddr>((resolve, reject) => {
        const onUpdate = (): void => {
          const ma = found();
          if (ma === undefined) return;
          cleanup();
          resolve(ma);
        };
        const onAbort = (): void => {
          cleanup();
          reject(_abortReason(signal, 'waiting for an address'));
        };
        const cleanup = (): void => {
          libp2p.removeEventListener('self:peer:update', onUpdate);
          signal.removeEventListener('abort', onAbort);
        };
        libp2p.addEventListener('self:peer:update', onUpdate);
        signal.addEventListener('abort', onAbort, { once: true });
        onUpdate();
      });
    },
    async dial(target, options = {}) {
      const addrs = Array.isArray(target)
        ? target
        : 'getComponents' in target
          ? [target]
          : undefined;
      if (addrs === undefined) return libp2p.dial(target as PeerId, options);
      const peerText = addrs[0] === undefined ? undefined : peerIdText(addrs[0]);
      if (peerText != null) {
        const open = libp2p
          .getConnections()
          .find(
            (c) => c.remotePeer.toString() === peerText && c.status === 'open' && c.limits == null,
          );
        if (open !== undefined) return open;
      }
      if (!addrs.some(isWebRTCAddress)) return libp2p.dial(addrs, options);
      // Requests racing to a peer that is not connected yet (a download asks one host for several
      // pieces at once) share one dial instead of each taking a queue slot.
      const key = peerText ?? addrs.map(String).join(' ');
      // The shared dial is bounded by the queue's attempt timeouts, not by any one caller's
      // signal (a caller that gives up must not fail the others); each caller waits on its own.
      let dial = dialing.get(key);
      if (dial === undefined) {
        dial = queue
          .run((signal) => libp2p.dial(addrs, { ...options, signal }))
          .finally(() => dialing.delete(key));
        dial.catch(() => {});
        dialing.set(key, dial);
      }
      return raceAbort(dial, options.signal);
    },
    async dialProtocol(target, protocols, options = {}) {
      const isPeerId = !Array.isArray(target) && !('getComponents' in target);
      const open = isPeerId ? directConnection(target as PeerId) : undefined;
      const connection = open ?? (await node.dial(target, options));
      return connection.newStream(protocols, options);
    },
    handle: (protocol, handler, options) => libp2p.handle(protocol, handler, options),
    unhandle: (protocol) => libp2p.unhandle(protocol),
    start: async () => {
      await libp2p.start();
    },
    stop: async () => {
      await libp2p.stop();
    },
  };
  if (init.start ?? true) await libp2p.start();
  return node;
}

/** `p`, or the signal's abort error if that comes first (`p` itself runs on). */
async function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) throw _abortReason(signal, 'dial');
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(_abortReason(signal, 'dial'));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([p, aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** Parses multiaddr text (re-exported so callers need not depend on @multiformats/multiaddr). */
export function toMultiaddr(text: string): Multiaddr {
  return multiaddr(text);
}
