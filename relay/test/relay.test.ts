import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createClient, fakeApp, perTest, startTestRelay, tempDir, waitFor } from './helpers.ts';

const { cleanup, relay } = perTest();

/** GET with a raw path (fetch would normalise `..` away). */
function rawGet(
  url: string,
  path: string,
): Promise<{ status: number; body: string; type?: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () =>
        resolve({ status: res.statusCode!, body, type: res.headers['content-type'] }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

function portOf(ma: string): number {
  return Number(/\/tcp\/(\d+)/.exec(ma)![1]);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

describe('relay', () => {
  it('serves the app, /healthz and /metrics', async () => {
    const r = await relay({ appDir: await fakeApp() });
    const index = await fetch(r.httpUrl + '/');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await index.text()).toContain('cairn index');
    const route = await fetch(r.httpUrl + '/drive/some/folder');
    expect(route.status).toBe(200);
    expect(await route.text()).toContain('cairn spa');
    const asset = await fetch(r.httpUrl + '/_app/immutable/start.abc.js');
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(r.httpUrl + '/manifest.webmanifest')).headers.get('content-type')).toMatch(
      /^application\/manifest\+json/,
    );
    expect((await fetch(r.httpUrl + '/_app/missing.js')).status).toBe(404);
    expect((await fetch(r.httpUrl + '/', { method: 'POST' })).status).toBe(405);

    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/a/%2e%2e/%2e%2e/secret.txt',
    ]) {
      const res = await rawGet(r.httpUrl, path);
      expect(res.body, path).not.toContain('do not serve');
      expect([400, 404], path).toContain(res.status);
    }

    const health = (await (await fetch(r.httpUrl + '/healthz')).json()) as Record<string, unknown>;
    expect(health.ok).toBe(true);
    expect(health.peerId).toBe(r.node.peerId.toString());
    expect(health.multiaddrs).toEqual(r.multiaddrs.map(String));
    expect(typeof health.uptime).toBe('number');

    const metrics = await fetch(r.httpUrl + '/metrics');
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await metrics.text();
    for (const name of [
      'cairn_relay_connections',
      'cairn_relay_connected_peers',
      'cairn_relay_reservations',
      'cairn_relay_relayed_bytes_total',
      'cairn_directory_hosts',
      'cairn_directory_announcements_total',
    ]) {
      expect(text).toContain(name);
    }
  });

  it('says so when there is no app', async () => {
    const r = await relay();
    const res = await fetch(r.httpUrl + '/');
    expect(res.status).toBe(404);
    expect(await res.text()).toMatch(/build/);
  });

  it('keeps its peer id across restarts with an identity file (mode 0600)', async () => {
    const file = join(await tempDir(), 'nested', 'identity.key');
    const first = await startTestRelay({ identityFile: file });
    const id = first.node.peerId.toString();
    await first.stop();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await relay({ identityFile: file });
    expect(second.node.peerId.toString()).toBe(id);
    const other = await relay();
    expect(other.node.peerId.toString()).not.toBe(id);
  });

  it('lets a client reserve a slot and another peer reach it through the relay', async () => {
    const r = await relay();
    const listener = await createClient({ listenOnRelay: true });
    const dialer = await createClient();
    cleanup.push(
      async () => listener.stop(),
      async () => dialer.stop(),
    );
    await listener.dial(r.multiaddrs[0]!);
    const circuitAddr = await waitFor('a circuit address', () =>
      listener.getMultiaddrs().find((ma) => ma.toString().includes('/p2p-circuit')),
    );
    expect(r.node.services.relay.reservations.size).toBe(1);

    await listener.handle(
      '/cairn/test/echo/1.0.0',
      async (stream) => {
        for await (const chunk of stream) stream.send(chunk);
        await stream.close();
      },
      { runOnLimitedConnection: true },
    );
    const conn = await dialer.dial(circuitAddr);
    expect(conn.remoteAddr.toString()).toContain('/p2p-circuit');
    expect(conn.limits).toBeDefined(); // relayed connections are limited: no bulk data here
    const stream = await conn.newStream('/cairn/test/echo/1.0.0', { runOnLimitedConnection: true });
    stream.send(new TextEncoder().encode('hello through the relay'));
    await stream.close();
    let echoed = '';
    for await (const chunk of stream) echoed += new TextDecoder().decode(chunk.subarray());
    expect(echoed).toBe('hello through the relay');

    const text = await (await fetch(r.httpUrl + '/metrics')).text();
    expect(text).toMatch(/cairn_relay_reservations 1/);
    const source = /cairn_relay_relayed_bytes_total\{direction="source"\} (\d+)/.exec(text);
    const dest = /cairn_relay_relayed_bytes_total\{direction="destination"\} (\d+)/.exec(text);
    expect(Number(source?.[1])).toBeGreaterThan(23);
    expect(Number(dest?.[1])).toBeGreaterThan(23);
    expect(text).toMatch(/cairn_relay_circuits_total 1/);
  });

  it('stops gracefully and frees its ports', async () => {
    const r = await startTestRelay();
    const wsPort = portOf(r.multiaddrs[0]!.toString());
    const httpPort = Number(new URL(r.httpUrl).port);
    const client = await createClient();
    cleanup.push(async () => client.stop());
    await client.dial(r.multiaddrs[0]!);
    await r.stop();
    await r.stop(); // twice is fine
    expect(await canBind(wsPort)).toBe(true);
    expect(await canBind(httpPort)).toBe(true);
  });

  it('runs from the command line and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, '..', 'src', 'main.ts'),
        '--ephemeral',
        '--no-app',
        '--http-port',
        '0',
        '--listen',
        '/ip4/127.0.0.1/tcp/0/ws',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => resolve(code)),
    );
    const url = await waitFor('the relay to start', () => /http (http:\/\/\S+)/.exec(out)?.[1]);
    const health = (await (await fetch(url + '/healthz')).json()) as { ok: boolean };
    expect(health.ok).toBe(true);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('prints help', async () => {
    const child = spawn(process.execPath, [
      join(import.meta.dirname, '..', 'src', 'main.ts'),
      '--help',
    ]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(out).toContain('--identity-file');
  });
});
