/** `cairn relay`: the relay, with relay/src's own flags (`parseRelayArgs`). */
import { UsageError } from './args.ts';
import type { Io } from './io.ts';
import { withTimeout } from './network.ts';

/** The other commands look for a relay at http://127.0.0.1:5173 by default; so serve there. */
const CLI_HTTP_PORT = '5173';

export async function relay(argv: string[], io: Io): Promise<number> {
  const { HELP, parseRelayArgs, startRelay } = await import('@cairn/relay');
  let parsed: ReturnType<typeof parseRelayArgs>;
  try {
    parsed = parseRelayArgs(argv, { CAIRN_RELAY_HTTP_PORT: CLI_HTTP_PORT, ...io.env });
  } catch (err) {
    throw new UsageError((err as Error).message, 'relay');
  }
  if (parsed.help) {
    io.out(
      HELP.replace('Usage: cairn-relay [options]', 'Usage: cairn relay [options]').replace(
        /default 8080\b/,
        `default ${CLI_HTTP_PORT} (cairn relay; 8080 for cairn-relay)`,
      ),
    );
    return 0;
  }
  const r = await startRelay({ ...parsed.config, log: io.log });
  io.log(`peer id ${r.node.peerId.toString()}`);
  for (const ma of r.multiaddrs) io.log(`libp2p ${ma.toString()}`);
  io.log(`http ${r.httpUrl} (app, /healthz, /metrics, /cairn.json)`);
  io.log(`hosts: cairn host --dir DIR --quota 10G --relay ${r.httpUrl}`);
  const signal = await io.untilSignal();
  io.log(`${signal}: stopping`);
  await withTimeout(r.stop(), 10_000, 'stopping the relay');
  io.log('stopped');
  return 0;
}
