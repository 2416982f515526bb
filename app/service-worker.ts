/// <reference types="@sveltejs/kit" />
/// <reference no-default-lib="true"/>
/// <reference lib="esnext" />
/// <reference lib="webworker" />
/**
 * The app's service worker (workbox): precaches the app shell so the installed app opens
 * offline, serves every navigation from the cached SPA shell, and streams downloads to disk
 * (`/_cairn/download/<id>/<name>`: the page feeds the bytes through a MessagePort as the
 * browser saves them; see lib/save.ts). A new version waits until the page says to take over
 * (the page announces the update instead of swapping code under the user).
 */
import { build, files, version } from '$service-worker';
import {
  cleanupOutdatedCaches,
  createHandlerBoundToURL,
  precacheAndRoute,
} from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';

declare const self: ServiceWorkerGlobalScope;

const SHELL = '/200.html';

precacheAndRoute([
  ...build.map((url) => ({ url, revision: null })),
  ...files.map((url) => ({ url, revision: version })),
  { url: SHELL, revision: version },
]);
cleanupOutdatedCaches();
registerRoute(
  new NavigationRoute(createHandlerBoundToURL(SHELL), {
    denylist: [/^\/_cairn\//, /^\/cairn\.json$/, /^\/healthz$/, /^\/metrics$/],
  }),
);

// The first version takes the open pages at once (so even a first visit can stream a download);
// later versions wait for the page's go-ahead.
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('message', (event) => {
  const data = event.data as { type?: string } | null;
  if (data?.type === 'SKIP_WAITING') void self.skipWaiting();
  if (data?.type === 'cairn-download') acceptDownload(event);
});

interface PendingDownload {
  port: MessagePort;
  name: string;
  size: number;
  mime: string;
}

const downloads = new Map<string, PendingDownload>();

function acceptDownload(event: ExtendableMessageEvent): void {
  const data = event.data as { id: string; name: string; size: number; mime: string };
  const port = event.ports[0];
  if (!port || typeof data.id !== 'string') return;
  downloads.set(data.id, { port, name: data.name, size: data.size, mime: data.mime });
  // Forget it if the page never asks for it.
  setTimeout(() => downloads.delete(data.id), 60_000);
  port.postMessage({ type: 'ready' });
}

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (url.origin !== self.location.origin || !url.pathname.startsWith('/_cairn/download/')) return;
  const id = url.pathname.split('/')[3] ?? '';
  const pending = downloads.get(id);
  if (!pending) {
    event.respondWith(new Response('This download is no longer available.', { status: 404 }));
    return;
  }
  downloads.delete(id);
  event.respondWith(streamFrom(pending));
});

function streamFrom(d: PendingDownload): Response {
  const { port } = d;
  let waiting: ((m: { type: string; chunk?: Uint8Array; message?: string }) => void) | undefined;
  port.onmessage = (e) => waiting?.(e.data);
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const message = await new Promise<{ type: string; chunk?: Uint8Array; message?: string }>(
          (resolve) => {
            waiting = resolve;
            port.postMessage({ type: 'pull' });
          },
        );
        if (message.type === 'chunk' && message.chunk) controller.enqueue(message.chunk);
        else if (message.type === 'done') {
          controller.close();
          port.close();
        } else {
          controller.error(new Error(message.message ?? 'the download failed'));
          port.close();
        }
      },
      cancel() {
        port.postMessage({ type: 'cancel' });
        port.close();
      },
    },
    { highWaterMark: 1 },
  );
  const ascii = d.name.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return new Response(body, {
    headers: {
      'content-type': d.mime || 'application/octet-stream',
      'content-length': String(d.size),
      'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(d.name)}`,
      'x-content-type-options': 'nosniff',
    },
  });
}
