/**
 * @packageDocumentation
 *
 * `@cairn/cli`: the `cairn` command (`src/main.ts`). Exported for scripts that want to run a
 * command in-process, and for `npm start`.
 */
export { run, VERSION, HELP } from './cli.ts';
export { parseSize, formatSize, UsageError, CliError } from './args.ts';
export { describeError } from './errors.ts';
export { resolveRelays, relayInputs, DEFAULT_RELAY } from './network.ts';
export type { Io } from './io.ts';
