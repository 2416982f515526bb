import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.xml': 'application/xml',
  '.pdf': 'application/pdf',
};

/** The SvelteKit static adapter writes the SPA shell here; unknown routes get it. */
const SPA_FALLBACK = '200.html';

export interface RelayHttpInit {
  /** Folder of the built app, or null to serve no app. */
  appDir: string | null;
  health(): unknown;
  metrics(): Promise<{ contentType: string; body: string }>;
  /**
   * What a client needs to join the network through this relay, served as `GET /cairn.json`:
   * `{ relays: [multiaddrs with /p2p/...] }`, with `chain` and `explorer` when configured. The
   * browser app and the `cairn` command read it when they are given the relay's HTTP URL.
   */
  clientConfig?(): CairnClientConfig;
  log?(msg: string): void;
}

/** The body of `GET /cairn.json`. Fields are added, never renamed: clients ignore unknown ones. */
export interface CairnClientConfig {
  /** This relay's public libp2p addresses, each ending in `/p2p/<peer id>`. */
  relays: string[];
  [field: string]: unknown;
}

function send(
  res: ServerResponse,
  status: number,
  type: string,
  body: string,
  head = false,
  extra: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'x-content-type-options': 'nosniff',
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(head ? undefined : body);
}

async function fileAt(path: string): Promise<{ path: string; size: number } | undefined> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) return fileAt(join(path, 'index.html'));
    if (!info.isFile()) return undefined;
    return { path, size: info.size };
  } catch {
    return undefined;
  }
}

/**
 * Resolve a URL path inside `root`. Returns undefined for anything that would leave it: `..`
 * segments (also percent-encoded), NUL bytes, backslashes, or symlinks pointing outside.
 */
async function resolveInside(root: string, urlPath: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
  if (decoded.split('/').some((seg) => seg === '..')) return undefined;
  const candidate = resolve(root, '.' + decoded);
  if (candidate !== root && !candidate.startsWith(root + sep)) return undefined;
  try {
    const real = await realpath(candidate);
    if (real !== root && !real.startsWith(root + sep)) return undefined;
  } catch {
    // missing: the caller decides between 404 and the SPA fallback
  }
  return candidate;
}

async function serveApp(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  pathname: string,
): Promise<void> {
  const head = req.method === 'HEAD';
  const target = await resolveInside(root, pathname);
  if (target == null) return send(res, 400, 'text/plain; charset=utf-8', 'bad path\n', head);
  let file = await fileAt(target);
  // A path without an extension is an app route: hand it the SPA shell. A missing asset stays 404
  // so a stale script reference does not come back as HTML.
  if (file == null && extname(pathname) === '') file = await fileAt(join(root, SPA_FALLBACK));
  if (file == null) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
  const type = CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream';
  const immutable = pathname.startsWith('/_app/immutable/');
  res.writeHead(200, {
    'content-type': type,
    'content-length': file.size,
    'x-content-type-options': 'nosniff',
    'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  if (head) {
    res.end();
    return;
  }
  const stream = createReadStream(file.path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}

/** The relay's HTTP server: the built app, `/healthz`, `/metrics` and `/cairn.json`. */
export function createRelayHttpServer(init: RelayHttpInit): Server {
  const root = init.appDir == null ? null : resolve(init.appDir);
  let realRoot: Promise<string | null> | undefined;
  const appRoot = (): Promise<string | null> =>
    (realRoot ??= root == null ? Promise.resolve(null) : realpath(root).catch(() => null));

  return createServer((req, res) => {
    void (async () => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.setHeader('allow', 'GET, HEAD');
        return send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
      }
      const head = req.method === 'HEAD';
      let pathname: string;
      try {
        pathname = new URL(req.url ?? '/', 'http://relay.invalid').pathname;
      } catch {
        return send(res, 400, 'text/plain; charset=utf-8', 'bad request\n', head);
      }
      if (pathname === '/healthz') {
        return send(
          res,
          200,
          'application/json; charset=utf-8',
          JSON.stringify(init.health()) + '\n',
          head,
        );
      }
      if (pathname === '/cairn.json' && init.clientConfig != null) {
        // Public information; an app served from another origin (a CDN, a dev server) may read it.
        return send(
          res,
          200,
          'application/json; charset=utf-8',
          JSON.stringify(init.clientConfig()) + '\n',
          head,
          { 'access-control-allow-origin': '*' },
        );
      }
      if (pathname === '/metrics') {
        const { contentType, body } = await init.metrics();
        return send(res, 200, contentType, body, head);
      }
      const dir = await appRoot();
      if (dir == null) {
        return send(
          res,
          404,
          'text/plain; charset=utf-8',
          'no app here: build it (npm run build) or pass --app-dir\n',
          head,
        );
      }
      await serveApp(dir, req, res, pathname);
    })().catch((err: unknown) => {
      init.log?.(`http error: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    });
  });
}
