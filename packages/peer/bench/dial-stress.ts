// Scratch: how often does a WebRTC dial between Node peers fail here, and how?
import { isWebRTCAddress } from '../src/addresses.ts';
import { createCairnNode } from '../src/node.ts';
import { startTestRelay } from '../test/fixtures.ts';

const relay = await startTestRelay();
const n = Number(process.argv[2] ?? 20);
let ok = 0;
for (let i = 0; i < n; i++) {
  const host = await createCairnNode({ relays: [relay.addr], allowPrivateAddresses: true });
  const addr = await host.waitForMultiaddr(isWebRTCAddress);
  const client = await createCairnNode({
    allowPrivateAddresses: true,
    dialQueue: { retries: Number(process.env.RETRIES ?? 0) },
  });
  const t0 = performance.now();
  try {
    await client.dial(addr);
    ok++;
    console.log(`dial ${i}: ok in ${(performance.now() - t0).toFixed(0)} ms`);
  } catch (err) {
    const e = err as Error & { cause?: Error };
    console.log(
      `dial ${i}: ${e.name}: ${e.message} after ${(performance.now() - t0).toFixed(0)} ms; cause ${e.cause?.name}: ${e.cause?.message}`,
    );
  }
  await client.stop();
  await host.stop();
}
console.log(`${ok}/${n}`);
await relay.node.stop();
(await import('node-datachannel')).cleanup();
