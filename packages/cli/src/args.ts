/** Command-line parsing shared by the commands: usage errors, sizes, flags. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad input on the command line: exit code 2, the message and a pointer to --help. */
export class UsageError extends Error {
  override name = 'UsageError' as const;
  /** The command whose help to point at, e.g. `put`. */
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.command = command;
  }
}

/**
 * A failure whose message already says what went wrong in the user's terms (exit code 1).
 * `cause` keeps the original error for CAIRN_DEBUG=1.
 */
export class CliError extends Error {
  override name = 'CliError' as const;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** `util.parseArgs` in strict mode, with its errors turned into `UsageError`. */
export function parseCommand<const O extends Options>(command: string, argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(message, command);
  }
}

const UNITS: Record<string, number> = {
  '': 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  p: 2 ** 50,
};

/**
 * A size in bytes: `500M`, `10G`, `1T`, `1.5G`, `4096`. Units are binary (K = 1024, M = 2^20,
 * G = 2^30, T = 2^40); `MB`, `MiB`, `GB`... are read the same way.
 */
export function parseSize(text: string, what = 'size', command?: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?)(?:i?b)?\s*$/i.exec(text);
  if (m == null)
    throw new UsageError(
      `${what} must be a size like 500M, 10G, 1T or a number of bytes, got '${text}'`,
      command,
    );
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(bytes) || bytes <= 0)
    throw new UsageError(
      `${what} must be more than 0 bytes and at most 8 PiB, got '${text}'`,
      command,
    );
  return bytes;
}

/** Human-readable bytes: 1.5 GiB, 512 KiB, 17 B. */
export function formatSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function parseCount(
  text: string | undefined,
  what: string,
  min: number,
  command?: string,
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min)
    throw new UsageError(`${what} must be an integer >= ${min}, got '${text}'`, command);
  return n;
}
