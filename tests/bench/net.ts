// The network benchmark's client in the page's main thread (WebRTC is not available in workers):
// this Chromium uploads to and downloads from Node hosts started by scripts/bench.ts, whose
// addresses come in the query (`?config=<JSON>`). Each result line goes to the Node runner
// through console messages, like page.ts.
import { runNetBench } from '../../packages/drive/bench/net-client.ts';

const post = (data: unknown) => console.log(`CAIRN-BENCH ${JSON.stringify(data)}`);
const config = JSON.parse(new URLSearchParams(location.search).get('config') ?? '{}') as {
  relay: string;
  hosts: string[];
  fileMiB?: number;
  k?: number;
  m?: number;
};
post({ type: 'start' });
try {
  await runNetBench({
    relay: config.relay,
    hosts: config.hosts,
    env: 'chromium',
    pair: 'Chromium→Node host',
    ...(config.fileMiB !== undefined ? { fileBytes: config.fileMiB * 1024 * 1024 } : {}),
    ...(config.k !== undefined ? { k: config.k } : {}),
    ...(config.m !== undefined ? { m: config.m } : {}),
    report: (result) => post({ type: 'result', payload: result }),
    log: (line) => post({ type: 'log', payload: line }),
  });
  post({ type: 'done' });
} catch (err) {
  post({ type: 'error', payload: String((err as Error).stack ?? err) });
}
