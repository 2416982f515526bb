/**
 * Writing a download to disk as it arrives, so a large file never sits whole in memory:
 *
 * - `service-worker` (the default): the page hands the service worker a MessagePort and opens
 *   `/_cairn/download/<id>/<name>` in a hidden frame; the worker answers that request with a
 *   stream that pulls each chunk from the page, and the browser saves it like any download.
 * - `file-system` (File System Access API, "Save as…"): the user picks the file; chunks are
 *   written to it.
 * - `blob`: no controlling service worker (first visit before it activates, or a browser without
 *   one): the bytes are gathered in memory, then saved. Only for files that fit.
 */

export type SaveMethod = 'service-worker' | 'file-system' | 'blob';

export interface SaveOptions {
  name: string;
  size: number;
  type: string;
  method?: SaveMethod;
  onBytes?: (written: number) => void;
  signal?: AbortSignal;
}

export function canSaveAs(): boolean {
  return typeof (globalThis as { showSaveFilePicker?: unknown }).showSaveFilePicker === 'function';
}

/** The method used when none is asked for: the service worker when it controls this page. */
export function defaultSaveMethod(): SaveMethod {
  return typeof navigator !== 'undefined' && navigator.serviceWorker?.controller
    ? 'service-worker'
    : 'blob';
}

/** Files larger than this are refused by the in-memory fallback. */
export const BLOB_LIMIT = 512 * 1024 * 1024;

export async function saveStream(
  body: AsyncIterable<Uint8Array>,
  options: SaveOptions,
): Promise<SaveMethod> {
  const method = options.method ?? defaultSaveMethod();
  if (method === 'file-system') await toFileSystem(body, options);
  else if (method === 'service-worker') await toServiceWorker(body, options);
  else await toBlob(body, options);
  return method;
}

async function toFileSystem(body: AsyncIterable<Uint8Array>, o: SaveOptions): Promise<void> {
  const picker = (
    globalThis as unknown as {
      showSaveFilePicker(options: { suggestedName: string }): Promise<FileSystemFileHandle>;
    }
  ).showSaveFilePicker;
  const handle = await picker({ suggestedName: o.name });
  const writable = await handle.createWritable();
  let written = 0;
  try {
    for await (const chunk of body) {
      o.signal?.throwIfAborted();
      await writable.write(chunk as Uint8Array<ArrayBuffer>);
      written += chunk.byteLength;
      o.onBytes?.(written);
    }
    await writable.close();
  } catch (err) {
    await writable.abort().catch(() => {});
    throw err;
  }
}

async function toBlob(body: AsyncIterable<Uint8Array>, o: SaveOptions): Promise<void> {
  if (o.size > BLOB_LIMIT)
    throw new Error(
      'This browser cannot stream this download to disk yet: reload the page once (to start the offline helper) or use “Save as…”.',
    );
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let written = 0;
  for await (const chunk of body) {
    o.signal?.throwIfAborted();
    parts.push(chunk as Uint8Array<ArrayBuffer>);
    written += chunk.byteLength;
    o.onBytes?.(written);
  }
  const url = URL.createObjectURL(new Blob(parts, { type: o.type || 'application/octet-stream' }));
  try {
    const a = document.createElement('a');
    a.href = url;
    a.download = o.name;
    a.rel = 'noopener';
    document.body.append(a);
    a.click();
    a.remove();
  } finally {
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }
}

async function toServiceWorker(body: AsyncIterable<Uint8Array>, o: SaveOptions): Promise<void> {
  const sw = navigator.serviceWorker.controller;
  if (!sw) return toBlob(body, o);
  const id = crypto.randomUUID();
  const channel = new MessageChannel();
  const iterator = body[Symbol.asyncIterator]();
  let written = 0;
  const finished = new Promise<void>((resolve, reject) => {
    const port = channel.port1;
    const fail = (err: unknown) => {
      port.postMessage({ type: 'error', message: (err as Error)?.message ?? String(err) });
      port.close();
      reject(err);
    };
    o.signal?.addEventListener('abort', () => fail(o.signal!.reason), { once: true });
    port.onmessage = async (event: MessageEvent<{ type: string }>) => {
      if (event.data.type === 'cancel') {
        await iterator.return?.(undefined);
        port.close();
        reject(new DOMException('The download was cancelled', 'AbortError'));
        return;
      }
      if (event.data.type !== 'pull') return;
      try {
        const next = await iterator.next();
        if (next.done) {
          port.postMessage({ type: 'done' });
          port.close();
          resolve();
          return;
        }
        const chunk = next.value.slice();
        written += chunk.byteLength;
        o.onBytes?.(written);
        port.postMessage({ type: 'chunk', chunk }, [chunk.buffer]);
      } catch (err) {
        fail(err);
      }
    };
  });
  await new Promise<void>((resolve, reject) => {
    channel.port1.addEventListener(
      'message',
      (e: MessageEvent<{ type: string }>) => (e.data.type === 'ready' ? resolve() : undefined),
      { once: true },
    );
    channel.port1.start();
    setTimeout(() => reject(new Error('the service worker did not answer')), 5000);
    sw.postMessage({ type: 'cairn-download', id, name: o.name, size: o.size, mime: o.type }, [
      channel.port2,
    ]);
  });
  const frame = document.createElement('iframe');
  frame.hidden = true;
  frame.title = 'download';
  frame.src = `/_cairn/download/${id}/${encodeURIComponent(o.name)}`;
  document.body.append(frame);
  try {
    await finished;
  } finally {
    setTimeout(() => frame.remove(), 5000);
  }
}
