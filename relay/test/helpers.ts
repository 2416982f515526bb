import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { identify } from '@libp2p/identify';
import type { Libp2p, PrivateKey } from '@libp2p/interface';
import { webSockets } from '@libp2p/websockets';
import { createLibp2p } from 'libp2p';
import { afterEach } from 'vitest';
import { startRelay } from '../src/index.ts';
import type { Relay, RelayConfig } from '../src/index.ts';

export async function tempDir(prefix = 'cairn-relay-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A tiny built app: index, SPA shell, an immutable asset, and a secret beside (not inside) it. */
export async function fakeApp(): Promise<string> {
  const root = await tempDir();
  const app = join(root, 'app');
  await mkdir(join(app, '_app', 'immutable'), { recursive: true });
  await writeFile(join(app, 'index.html'), '<!doctype html><title>cairn index</title>');
  await writeFile(join(app, '200.html'), '<!doctype html><title>cairn spa</title>');
  await writeFile(join(app, '_app', 'immutable', 'start.abc.js'), 'export const x = 1;');
  await writeFile(join(app, 'manifest.webmanifest'), '{}');
  await writeFile(join(root, 'secret.txt'), 'do not serve');
  return app;
}

export function startTestRelay(config: RelayConfig = {}): Promise<Relay> {
  return startRelay({
    listen: ['/ip4/127.0.0.1/tcp/0/ws'],
    httpPort: 0,
    appDir: null,
    ...config,
  });
}

/** A Node libp2p client as a browser would be: WebSockets to relays, circuit relay transport. */
export function createClient(
  options: { privateKey?: PrivateKey; listenOnRelay?: boolean } = {},
): Promise<Libp2p> {
  return createLibp2p({
    ...(options.privateKey != null ? { privateKey: options.privateKey } : {}),
    addresses: { listen: options.listenOnRelay === true ? ['/p2p-circuit'] : [] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() },
  });
}

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function errorOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error');
}

/**
 * Per-test teardown for a test file: `cleanup` takes stop functions (run last first after each
 * test), and `relay(config)` starts a loopback relay that is stopped that way.
 */
export function perTest(): {
  cleanup: (() => Promise<unknown>)[];
  relay(config?: RelayConfig): Promise<Relay>;
} {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()!().catch(() => {});
  });
  return {
    cleanup,
    async relay(config = {}) {
      const r = await startTestRelay(config);
      cleanup.push(() => r.stop());
      return r;
    },
  };
}

/**
 * The sum of a counter over all its label sets, read from a relay's Prometheus `/metrics`.
 * Throws when the relay does not export the metric at all (a renamed metric must fail the test).
 */
export async function relayMetric(httpUrl: string, name: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}/metrics`)).text();
  const pattern = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`);
  let total = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const m = pattern.exec(line);
    if (m) {
      seen = true;
      total += Number(m[1]);
    }
  }
  if (!seen) throw new Error(`the relay exports no ${name}`);
  return total;
}
