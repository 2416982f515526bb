/**
 * Vitest globalSetup for the Chromium project: a browser test cannot start servers, so this runs
 * in Node before the browser tests and starts a loopback relay and a Node host (memory store),
 * handing their addresses to the tests through `provide` / `inject`:
 *
 *   cairnRelayAddr   the relay's ws multiaddr (with /p2p/<id>)
 *   cairnHostAddr    the host's WebRTC multiaddr through that relay
 *
 * Enable it in vite.config.ts, chromium project: `globalSetup: ['packages/peer/test/global-setup.ts']`.
 */
import type { TestProject } from 'vitest/node';
import { MemoryShardStore } from '@cairn/store';
import { HostService, createCairnNode, isWebRTCAddress } from '../src/index.ts';
import { startTestRelay } from './fixtures.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    cairnRelayAddr: string;
    cairnHostAddr: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const relay = await startTestRelay();
  const host = await createCairnNode({ relays: [relay.addr], allowPrivateAddresses: true });
  const service = new HostService(host, {
    store: new MemoryShardStore({ quota: 256 * 1024 * 1024 }),
    privateKey: host.privateKey,
  });
  await service.start();
  const addr = await host.waitForMultiaddr(isWebRTCAddress, {
    signal: AbortSignal.timeout(30_000),
  });
  project.provide('cairnRelayAddr', relay.addr);
  project.provide('cairnHostAddr', addr.toString());
  return async () => {
    await service.stop();
    await host.stop();
    await relay.node.stop();
    // node-datachannel (WebRTC in Node) keeps a native callback alive until told to clean up;
    // globalSetup runs in Vitest's main process, which would otherwise not exit.
    const ndc = await import('node-datachannel');
    ndc.cleanup();
  };
}
