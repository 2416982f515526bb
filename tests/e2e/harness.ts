// The browser side of the end-to-end tests: a page that can be a host (shards in OPFS or
// IndexedDB, announced to the relay's directory), an uploader or a downloader, using the same
// packages the app uses. The Node test drives it through `window.cairnE2E` with Playwright.
import { sha256 } from '@noble/hashes/sha2.js';
import { CairnNetwork, getFile, putFile } from '@cairn/drive';
import { createCairnNode, startHosting, type CairnNode, type Hosting } from '@cairn/peer';
import { browserStorageStatus, chooseBrowserStore } from '@cairn/store/browser';
import type { BrowserStorageStatus } from '@cairn/store/browser';

export interface HostReport {
  peerId: string;
  store: string;
  storage: BrowserStorageStatus;
}

export interface UploadReport {
  link: string;
  sha256: string;
  size: number;
  hosts: string[];
  ms: number;
}

export interface DownloadReport {
  sha256: string;
  size: number;
  name: string;
  faults: { host: string; reason: string }[];
  ms: number;
}

export interface E2E {
  host(relay: string, name: string, quota: number): Promise<HostReport>;
  upload(relay: string, size: number, k: number, m: number): Promise<UploadReport>;
  download(relay: string, link: string): Promise<DownloadReport>;
  usage(): Promise<{ used: number; shards: number }>;
  stopHosting(): Promise<void>;
}

declare global {
  interface Window {
    cairnE2E: E2E;
  }
}

const hex = (b: Uint8Array): string =>
  Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
let hosting: Hosting | undefined;

async function node(relay?: string, privateKey?: Uint8Array): Promise<CairnNode> {
  return createCairnNode({
    ...(relay ? { relays: [relay] } : {}),
    ...(privateKey ? { privateKey } : {}),
    allowPrivateAddresses: true,
  });
}

/** A host keeps its identity across reloads (the app derives it from the recovery phrase). */
function identitySeed(name: string): Uint8Array {
  const key = `cairn-e2e-identity-${name}`;
  let hexSeed = localStorage.getItem(key);
  if (hexSeed === null) {
    hexSeed = hex(crypto.getRandomValues(new Uint8Array(32)));
    localStorage.setItem(key, hexSeed);
  }
  return Uint8Array.from(hexSeed.match(/../g)!, (b) => parseInt(b, 16));
}

window.cairnE2E = {
  async host(relay, name, quota) {
    const n = await node(relay, identitySeed(name));
    const store = await chooseBrowserStore({ name, quota });
    const storage = await browserStorageStatus();
    hosting = await startHosting(n, { store, directories: [relay] });
    return { peerId: n.peerId.toString(), store: store.kind, storage };
  },

  async upload(relay, size, k, m) {
    // A file as the app gets one: a Blob, read twice (roots, then shards), never whole in memory
    // as one buffer. Its hash is taken as it is made.
    const parts: Uint8Array[] = [];
    const hash = sha256.create();
    for (let at = 0; at < size; at += 1 << 20) {
      const part = new Uint8Array(Math.min(1 << 20, size - at));
      for (let i = 0; i < part.length; i += 65_536)
        crypto.getRandomValues(part.subarray(i, i + 65_536));
      hash.update(part);
      parts.push(part);
    }
    const blob = new Blob(parts as Uint8Array<ArrayBuffer>[]);
    parts.length = 0;
    const network = new CairnNetwork({ node: await node(), directories: [relay] });
    const t0 = performance.now();
    const result = await putFile(network, () => blob.stream(), {
      k,
      m,
      size,
      name: 'e2e.bin',
      baseUrl: location.origin + '/',
    });
    const ms = performance.now() - t0;
    return {
      link: result.link,
      sha256: hex(hash.digest()),
      size,
      hosts: result.placements.map((p) => p.host),
      ms,
    };
  },

  async download(relay, link) {
    const network = new CairnNetwork({ node: await node(), directories: [relay] });
    const faults: { host: string; reason: string }[] = [];
    const t0 = performance.now();
    const file = await getFile(network, link, {
      onFault: (f) => faults.push({ host: f.host, reason: f.reason }),
    });
    const hash = sha256.create();
    let size = 0;
    for await (const chunk of file.body) {
      hash.update(chunk);
      size += chunk.byteLength;
    }
    return {
      sha256: hex(hash.digest()),
      size,
      name: file.manifest.name,
      faults,
      ms: performance.now() - t0,
    };
  },

  async stopHosting() {
    await hosting?.stop();
    hosting = undefined;
  },

  async usage() {
    if (!hosting) throw new Error('not hosting');
    const u = await hosting.service.usage();
    return { used: u.used, shards: u.shards };
  },
};
document.title = 'cairn-e2e-ready';
