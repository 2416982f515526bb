#!/usr/bin/env node
// The relay's command line: `node relay/src/main.ts --help`.
import { HELP, parseRelayArgs, startRelay } from './index.ts';

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseRelayArgs>;
  try {
    parsed = parseRelayArgs(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`cairn-relay: ${(err as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return;
  }
  const log = (msg: string): void => {
    process.stdout.write(`${new Date().toISOString()} ${msg}\n`);
  };
  const relay = await startRelay({ ...parsed.config, log });
  log(`peer id ${relay.node.peerId.toString()}`);
  for (const ma of relay.multiaddrs) log(`libp2p ${ma.toString()}`);
  log(`http ${relay.httpUrl} (app, /healthz, /metrics, /cairn.json)`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      log(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    log(`${signal}: stopping`);
    const force = setTimeout(() => {
      log('shutdown took too long: exiting');
      process.exit(1);
    }, 10_000);
    force.unref();
    relay.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`error while stopping: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`cairn-relay: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
