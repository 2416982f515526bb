// A paid browser host, as the app runs one: shards in OPFS (or IndexedDB), a libp2p node reached
// over WebRTC, and `startPaidHost` from @cairn/earn (registration, deal admission, quotes,
// announcements, and the daemon that answers the chain's challenges and collects), its state in
// localStorage. The Node side (tests/earning.node.test.ts, the earn benchmark) drives it through
// `window.cairnPaidHost` and hears its daemon's events through an exposed function.
import { accountFromPrivateKey, createChainReader, createChainSigner } from '@cairn/contracts';
import { LocalStorageState, startPaidHost, type PaidHost } from '@cairn/earn';
import { createCairnNode } from '@cairn/peer';
import { chooseBrowserStore } from '@cairn/store/browser';
import { CountingStore } from '../../packages/earn/bench/counting-store.ts';
import {
  PAID_HOST_EVENT,
  PAID_HOST_READY,
  fromWire,
  toWire,
  type PaidHostPageInit,
  type PaidHostStarted,
} from './paid-host-wire.ts';

const fromHex = (hex: string): Uint8Array =>
  Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));

let host: PaidHost | undefined;
let stopNode: (() => Promise<void>) | undefined;
let store: CountingStore | undefined;

window.cairnPaidHost = {
  async start(wire) {
    if (host) throw new Error('already started');
    const init = fromWire<PaidHostPageInit>(wire);
    const chainOptions =
      init.chainPollingMs === undefined ? {} : { pollingInterval: init.chainPollingMs };
    const reader = createChainReader(init.chain, chainOptions);
    const signer = createChainSigner(init.chain, accountFromPrivateKey(init.key), {
      ...chainOptions,
      reader,
    });
    const node = await createCairnNode({
      relays: [init.relay],
      privateKey: fromHex(init.peerSeed),
      allowPrivateAddresses: true,
    });
    store = new CountingStore(await chooseBrowserStore({ name: init.name, quota: init.quota }));
    const send = (e: object) =>
      window[PAID_HOST_EVENT]?.(toWire({ ...e, at: Date.now(), host: init.name }));
    try {
      host = await startPaidHost({
        node,
        store,
        directories: [init.relay],
        signer,
        pricePerBytePeriod: init.pricePerBytePeriod,
        stake: init.stake,
        useFaucet: false,
        state: new LocalStorageState(undefined, `cairn-earn:${init.name}:`),
        onEvent: send,
        daemon: {
          claimEveryPeriods: init.claimEveryPeriods ?? 0,
          ...(init.pollIntervalMs === undefined ? {} : { pollIntervalMs: init.pollIntervalMs }),
        },
      });
    } catch (err) {
      await node.stop().catch(() => {});
      throw err;
    }
    stopNode = () => node.stop();
    const started: PaidHostStarted = {
      peerId: node.peerId.toString(),
      account: signer.account,
      store: store.kind,
      registration: host.registration.action,
    };
    return toWire(started);
  },

  async stop() {
    await host?.stop();
    await stopNode?.();
    await store?.close();
    host = undefined;
    stopNode = undefined;
  },

  async status() {
    if (!host) throw new Error('not started');
    const { traffic: _traffic, ...status } = await host.status();
    return toWire(status);
  },

  reads() {
    if (!store) throw new Error('not started');
    return store.counts();
  },

  resetReads() {
    store?.reset();
  },
};
document.title = PAID_HOST_READY;
