/** The `cairn` command: dispatch, help, version, and the exit codes. */
import { readFileSync } from 'node:fs';
import { CliError, UsageError } from './args.ts';
import { delegate } from './delegate.ts';
import { debugDetails, describeError } from './errors.ts';
import { get } from './get.ts';
import { host } from './host.ts';
import type { Io } from './io.ts';
import { mediator } from './mediator.ts';
import { put } from './put.ts';
import { relay } from './relay.ts';

export const VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

export const HELP = `Usage: cairn <command> [options]

Cairn: an end-to-end encrypted drive stored on other people's machines.

Commands:
  host --dir DIR --quota SIZE   run a headless host that stores shards for others
  put FILE                      upload a file; prints its share link on stdout
  get LINK [OUT]                download a file by its share link (to stdout without OUT)
  relay                         run a relay (signalling, host directory, the app over HTTP)
  mediator --dir DIR            repair delegated files in their owners' names while they are away
  delegate LINK --mediator M    hand a paid file to a mediator, with a budget on chain

Every command but relay finds the network through --relay R (repeatable): a relay multiaddr
(/ip4/.../ws/p2p/<id>) or a relay's http(s) URL; else CAIRN_RELAY; else http://127.0.0.1:5173
(what npm start runs).

  cairn <command> --help        options of one command
  cairn --version               ${VERSION}

Exit codes: 0 done, 1 failed (the reason on stderr), 2 bad usage. CAIRN_DEBUG=1 shows stacks.
`;

// Each command parses its arguments first and loads libp2p and the rest only then, so usage
// errors and --help answer quickly.
const COMMANDS: Record<string, (argv: string[], io: Io) => Promise<number>> = {
  host,
  put,
  get,
  relay,
  mediator,
  delegate,
};

/** Runs one command line; resolves with the exit code (never throws). */
export async function run(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command == null) {
      io.err(HELP);
      return 2;
    }
    if (command === '-h' || command === '--help' || command === 'help') {
      const topic = command === 'help' && rest[0] != null ? COMMANDS[rest[0]] : undefined;
      if (topic != null) return await topic(['--help'], io);
      io.out(HELP);
      return 0;
    }
    if (command === '-v' || command === '--version' || command === 'version') {
      io.out(`cairn ${VERSION}\n`);
      return 0;
    }
    const cmd = COMMANDS[command];
    if (cmd == null)
      throw new UsageError(
        command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}'`,
      );
    return await cmd(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      const more = err.command != null ? `cairn ${err.command} --help` : 'cairn --help';
      io.err(`cairn: ${err.message}\nRun '${more}' for usage.\n`);
      return 2;
    }
    const where = command != null && COMMANDS[command] != null ? `${command}: ` : '';
    io.err(`cairn ${where}${describeError(err)}\n`);
    if (io.env.CAIRN_DEBUG === '1') io.err(`${debugDetails(err)}\n`);
    return 1;
  }
}

export { CliError, UsageError };
