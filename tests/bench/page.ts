// Runs the benchmark suites inside a dedicated Web Worker (where the codec's heavy work runs in
// the app) and hands each result line to the Node runner through console messages.
const params = new URLSearchParams(location.search);
const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
worker.onmessage = (event: MessageEvent<{ type: string; payload?: unknown }>) => {
  console.log(`CAIRN-BENCH ${JSON.stringify(event.data)}`);
};
worker.onerror = (event) => {
  console.log(`CAIRN-BENCH ${JSON.stringify({ type: 'error', payload: event.message })}`);
};
worker.postMessage({ only: params.get('only') ?? undefined });
