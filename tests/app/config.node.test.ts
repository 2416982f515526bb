// The app's reading of the relay's /cairn.json: relays, chain and the optional block explorer.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, parseAppConfig } from '../../app/lib/config.ts';

const SOURCE = 'http://127.0.0.1:8080/cairn.json';
const relays = ['/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWexample'];

describe('parseAppConfig', () => {
  it('reads relays, no chain, and no explorer when the relay publishes none', () => {
    expect(parseAppConfig({ relays }, SOURCE)).toEqual({
      relays,
      chain: null,
      explorer: null,
      source: SOURCE,
      fresh: true,
    });
  });

  it('takes an http(s) explorer, without its trailing slash', () => {
    expect(
      parseAppConfig({ relays, explorer: 'https://explorer.example.org' }, SOURCE).explorer,
    ).toBe('https://explorer.example.org');
    expect(
      parseAppConfig({ relays, explorer: 'http://127.0.0.1:4000/scan/' }, SOURCE).explorer,
    ).toBe('http://127.0.0.1:4000/scan');
  });

  it('ignores an unusable explorer rather than failing', () => {
    for (const explorer of [
      42,
      '',
      'explorer.example.org',
      'javascript:alert(1)',
      'ftp://explorer.example.org',
      'https://explorer.example.org/?tx=',
      'https://explorer.example.org/#x',
      'https://user:pass@explorer.example.org',
      { url: 'https://explorer.example.org' },
    ])
      expect(parseAppConfig({ relays, explorer }, SOURCE).explorer).toBeNull();
  });

  it('still rejects a config without relays', () => {
    expect(() => parseAppConfig({ explorer: 'https://explorer.example.org' }, SOURCE)).toThrow(
      /relays/,
    );
  });
});

describe('loadConfig', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('keeps the explorer in the copy used when the relay cannot be reached', async () => {
    const stored = new Map<string, string>();
    vi.stubGlobal('localStorage', {
      getItem: (k: string) => stored.get(k) ?? null,
      setItem: (k: string, v: string) => void stored.set(k, v),
    });
    const origin = 'http://127.0.0.1:8080';
    const online = (async () =>
      Response.json({ relays, explorer: 'https://explorer.example.org/' })) as typeof fetch;
    expect(await loadConfig(origin, online)).toMatchObject({
      explorer: 'https://explorer.example.org',
      fresh: true,
    });
    const offline = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    expect(await loadConfig(origin, offline)).toMatchObject({
      relays,
      chain: null,
      explorer: 'https://explorer.example.org',
      fresh: false,
    });
  });
});
