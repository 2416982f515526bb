/**
 * Checks the network namespace that scripts/netns.sh puts the test run in (as root): it holds only
 * loopback and a veth pair whose two ends are both inside, so nothing the tests do can leave the
 * machine, while a default route on the veth keeps WebRTC (Chromium and node-datachannel)
 * gathering a host candidate. Outside the namespace (not root, or CAIRN_NETNS=0) the tests run on
 * plain loopback and this file is skipped.
 */
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';

const active = process.env.CAIRN_NETNS_ACTIVE === '1';

interface Link {
  ifname: string;
  link?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
}

function ip<T>(...args: string[]): T {
  return JSON.parse(execFileSync('ip', ['-j', ...args], { encoding: 'utf8' })) as T;
}

/** The error code of a TCP connect to `host`, or 'TIMEOUT' / 'CONNECTED'. */
function tcpConnect(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (result: string): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done('TIMEOUT'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    socket.once('connect', () => done('CONNECTED'));
  });
}

// Skipped (reported as such) when the run is not inside the namespace: not root, or CAIRN_NETNS=0.
describe.skipIf(!active)('the isolated network namespace of scripts/netns.sh', () => {
  it('has only loopback and a veth pair with both ends inside', () => {
    const links = ip<Link[]>('-d', 'link', 'show');
    expect(links.map((l) => l.ifname).sort()).toEqual(['cairn0', 'cairn1', 'lo']);
    for (const [name, peer] of [
      ['cairn0', 'cairn1'],
      ['cairn1', 'cairn0'],
    ] as const) {
      const l = links.find((x) => x.ifname === name)!;
      expect(l.linkinfo?.info_kind).toBe('veth');
      // The peer is named (so it is in this namespace) and no other namespace is referenced.
      expect(l.link).toBe(peer);
      expect(l.link_netnsid).toBeUndefined();
    }
    expect(
      Object.keys(networkInterfaces()).every((n) => ['lo', 'cairn0', 'cairn1'].includes(n)),
    ).toBe(true);
    // Nothing forwards between interfaces (and there is no interface to forward to).
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe('0');
  });

  it('routes public addresses into the veth, whose other end is here', () => {
    const [route] = ip<{ dev: string }[]>('route', 'get', '1.1.1.1');
    expect(route?.dev).toBe('cairn0');
  });

  it('fails TCP connects to off-machine addresses at once', async () => {
    for (const host of ['192.0.2.1', '1.1.1.1', '8.8.8.8', '2606:4700:4700::1111']) {
      const started = Date.now();
      const result = await tcpConnect(host, 80, 5_000);
      expect(['EHOSTUNREACH', 'ENETUNREACH'], `${host}: ${result}`).toContain(result);
      expect(Date.now() - started, host).toBeLessThan(5_000);
    }
  });

  it('gets no answer to UDP sent off-machine and resolves no public name', async () => {
    const socket = dgram.createSocket('udp4');
    let answered = false;
    socket.on('message', () => (answered = true));
    socket.on('error', () => {});
    // A DNS query for "." to a public resolver.
    const query = Buffer.from('abcd010000010000000000000000010001', 'hex');
    await new Promise<void>((resolve) => socket.send(query, 53, '1.1.1.1', () => resolve()));
    await new Promise((r) => setTimeout(r, 1_000));
    socket.close();
    expect(answered).toBe(false);
    await expect(lookup('example.com')).rejects.toThrow();
  });

  it('still carries loopback TCP', async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    expect(await tcpConnect('127.0.0.1', port, 5_000)).toBe('CONNECTED');
    server.close();
  });
});
