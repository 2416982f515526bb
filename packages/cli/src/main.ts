#!/usr/bin/env node
// The `cairn` command. `node packages/cli/src/main.ts --help`.
import { run } from './cli.ts';
import { processIo } from './io.ts';

// A closed pipe (cairn get LINK | head) reports through the write callbacks; do not crash here.
process.stdout.on('error', () => {});

const code = await run(process.argv.slice(2), processIo());
// The commands release node-datachannel themselves (stopNode in network.ts). Flush what is
// queued on stdout and stderr, then leave: libp2p may still hold timers or handles that would
// keep the process alive after a command has finished.
await Promise.all(
  [process.stdout, process.stderr].map(
    (s) =>
      new Promise<void>((resolve) =>
        s.writableLength === 0 ? resolve() : s.write('', () => resolve()),
      ),
  ),
);
process.exit(code);
