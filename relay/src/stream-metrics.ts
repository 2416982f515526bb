import type { Metrics, Stream } from '@libp2p/interface';

// libp2p hands every negotiated protocol stream to its Metrics component before any handler
// sees it. The relay uses that hook to count the bytes of circuit relay streams; libp2p's own
// internal metrics are not collected (a no-op for every register* call).
//
// Why not `node.use(protocol, middleware)`: in libp2p 3.3 the inbound path pushes the handler
// onto the registrar's own middleware array, so after the first stream every later stream on
// that protocol runs the handler once more (the relay's second hop stream broke).

const noop = (): void => {};
const metric = {
  update: noop,
  increment: noop,
  decrement: noop,
  reset: noop,
  observe: noop,
  timer: () => noop,
};

function register(_name: string, options?: { calculate?: unknown }): typeof metric | undefined {
  return options?.calculate != null ? undefined : metric;
}

export function streamMetrics(onProtocolStream: (stream: Stream) => void): () => Metrics {
  return () =>
    ({
      trackMultiaddrConnection: noop,
      trackProtocolStream: onProtocolStream,
      registerMetric: register,
      registerMetricGroup: register,
      registerCounter: register,
      registerCounterGroup: register,
      registerHistogram: register,
      registerHistogramGroup: register,
      registerSummary: register,
      registerSummaryGroup: register,
      traceFunction: <F>(_name: string, fn: F): F => fn,
      createTrace: () => undefined,
    }) as unknown as Metrics;
}
