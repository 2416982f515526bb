import { runCodecBenches } from '../../packages/codec/bench/codec.bench.ts';

self.onmessage = async (event: MessageEvent<{ only?: string }>) => {
  try {
    await runCodecBenches({
      env: 'chromium-worker',
      ...(event.data.only ? { only: event.data.only } : {}),
      report: (result) => self.postMessage({ type: 'result', payload: result }),
    });
    self.postMessage({ type: 'done' });
  } catch (err) {
    self.postMessage({ type: 'error', payload: String((err as Error).stack ?? err) });
  }
};
