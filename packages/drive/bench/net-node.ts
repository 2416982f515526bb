// `node packages/drive/bench/net-node.ts [HOSTS] [MiB]`: the network benchmark with a Node client
// (node-datachannel), hosts in another process. Prints the `net.*.node` lines.
import { formatResult } from '../../codec/bench/harness.ts';
import { runNetBench } from './net-client.ts';
import { startNetHosts } from './net-spawn.ts';

const count = Number(process.argv[2] ?? 20);
const mib = Number(process.argv[3] ?? 64);
const k = Math.ceil(count / 2);
const servers = await startNetHosts(count);
try {
  await runNetBench({
    relay: servers.relay,
    hosts: servers.hosts,
    env: 'node',
    suffix: '.node',
    pair: 'Node→Node host',
    fileBytes: mib * 1024 * 1024,
    k,
    m: count - k,
    report: (r) => console.log(formatResult(r)),
    log: (l) => console.error(l),
  });
} finally {
  await servers.stop();
  (await import('node-datachannel')).cleanup();
}
