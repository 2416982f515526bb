// GET /cairn.json: how a client (the browser app, the cairn command) finds the relay's libp2p
// addresses from its HTTP URL alone.
import { multiaddr } from '@multiformats/multiaddr';
import { describe, expect, it } from 'vitest';
import { parseRelayArgs, startRelay } from '../src/index.ts';
import { createClient, perTest } from './helpers.ts';

const { cleanup, relay } = perTest();

describe('GET /cairn.json', () => {
  it('lists the relay multiaddrs with its peer id, uncached, and a client can dial them', async () => {
    const r = await relay();
    const res = await fetch(r.httpUrl + '/cairn.json');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const body = (await res.json()) as { relays: string[] };
    const id = r.node.peerId.toString();
    expect(body.relays.length).toBeGreaterThan(0);
    expect(body.relays).toEqual(r.multiaddrs.map(String));
    for (const a of body.relays)
      expect(a).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/ws/p2p/${id}$`));

    const client = await createClient();
    cleanup.push(async () => client.stop());
    const conn = await client.dial(multiaddr(body.relays[0]!), {
      signal: AbortSignal.timeout(10_000),
    });
    expect(conn.remotePeer.toString()).toBe(id);

    const head = await fetch(r.httpUrl + '/cairn.json', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('advertises the announce addresses, not the listen ones, behind a proxy', async () => {
    const r = await relay({ announce: ['/dns4/relay.example.org/tcp/443/tls/ws'] });
    const body = (await (await fetch(r.httpUrl + '/cairn.json')).json()) as { relays: string[] };
    expect(body.relays).toEqual([
      `/dns4/relay.example.org/tcp/443/tls/ws/p2p/${r.node.peerId.toString()}`,
    ]);
  });

  it('publishes the chain it was given, and no chain field without one', async () => {
    const chain = {
      chainId: 31337,
      rpcUrl: 'http://127.0.0.1:8545',
      market: '0x' + '1'.repeat(40),
    };
    const withChain = await relay({ chain });
    const body = (await (await fetch(withChain.httpUrl + '/cairn.json')).json()) as {
      chain?: unknown;
    };
    expect(body.chain).toEqual(chain);
    const without = await relay();
    expect(await (await fetch(without.httpUrl + '/cairn.json')).json()).not.toHaveProperty('chain');
  });

  it('publishes the block explorer it was given, and no explorer field without one', async () => {
    const withExplorer = await relay({ explorerUrl: 'https://explorer.example.org/base/' });
    const body = (await (await fetch(withExplorer.httpUrl + '/cairn.json')).json()) as {
      explorer?: unknown;
    };
    expect(body.explorer).toBe('https://explorer.example.org/base');
    const without = await relay();
    expect(await (await fetch(without.httpUrl + '/cairn.json')).json()).not.toHaveProperty(
      'explorer',
    );
    await expect(startRelay({ explorerUrl: 'ftp://explorer.example.org' })).rejects.toThrow(
      /explorerUrl must be an http\(s\) URL/,
    );
  });

  it('takes the explorer from --explorer-url or CAIRN_RELAY_EXPLORER_URL, and checks it', () => {
    const explorer = (argv: string[], env: Record<string, string> = {}) => {
      const parsed = parseRelayArgs(argv, env);
      if (parsed.help) throw new Error('help');
      return parsed.config.explorerUrl;
    };
    expect(explorer([])).toBeUndefined();
    expect(explorer([], { CAIRN_RELAY_EXPLORER_URL: '' })).toBeUndefined();
    expect(explorer(['--explorer-url', 'https://explorer.example.org'])).toBe(
      'https://explorer.example.org',
    );
    expect(explorer(['--explorer-url=http://127.0.0.1:4000/'])).toBe('http://127.0.0.1:4000');
    expect(explorer([], { CAIRN_RELAY_EXPLORER_URL: 'https://scan.example.org/' })).toBe(
      'https://scan.example.org',
    );
    // the flag wins over the environment
    expect(
      explorer(['--explorer-url', 'https://a.example.org'], {
        CAIRN_RELAY_EXPLORER_URL: 'https://b.example.org',
      }),
    ).toBe('https://a.example.org');
    expect(() => explorer(['--explorer-url', 'explorer.example.org'])).toThrow(
      /--explorer-url must be an http\(s\) URL/,
    );
    expect(() => explorer(['--explorer-url', 'javascript:alert(1)'])).toThrow(/--explorer-url/);
    expect(() => explorer(['--explorer-url', 'https://x.example.org/?a=1'])).toThrow(
      /--explorer-url must have no query or fragment/,
    );
    expect(() => explorer(['--explorer-url', 'https://x.example.org/#tx'])).toThrow(
      /no query or fragment/,
    );
    expect(() => explorer([], { CAIRN_RELAY_EXPLORER_URL: 'ws://x.example.org' })).toThrow(
      /CAIRN_RELAY_EXPLORER_URL.*--explorer-url/,
    );
  });

  it('is served even when the relay serves no app', async () => {
    const r = await relay({ appDir: null });
    expect((await fetch(r.httpUrl + '/cairn.json')).status).toBe(200);
    expect((await fetch(r.httpUrl + '/other.json')).status).toBe(404);
  });
});
