// Real `cairn` processes for the tests (`node src/main.ts ...`): run one to its end, or keep one
// running (a relay, a host) and wait for lines in its output.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toHex } from 'viem';
import { devAccount } from '../../contracts/test/helpers.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
// No CAIRN_RELAY or CAIRN_KEY_FILE from the caller's shell; no stacks.
export const ENV = { ...process.env, CAIRN_RELAY: '', CAIRN_KEY_FILE: '', CAIRN_DEBUG: '' };

export interface Done {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

export interface Daemon {
  child: ChildProcess;
  /** stdout so far */
  text(): string;
  /** stdout and stderr so far, for failure messages */
  output(): string;
  /** Resolves with the first match of `re` in its stdout (from `from` on). */
  waitFor(re: RegExp, timeoutMs?: number, from?: number): Promise<RegExpMatchArray>;
  exited: Promise<Done>;
}

/** Starts `cairn ARGS`; killed after `timeoutMs` when given. */
export function start(args: string[], timeoutMs?: number, env: NodeJS.ProcessEnv = ENV): Daemon {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.on('data', (d: Buffer) => {
    out.push(d);
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const timer =
    timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = new Promise<Done>((resolve) =>
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // 'exit' can come before the last 'data'; 'close' waits for the pipes.
      child.on('close', () => resolve({ code, signal, stdout: Buffer.concat(out), stderr: err }));
    }),
  );
  const text = (): string => Buffer.concat(out).toString();
  return {
    child,
    text,
    output: () => `${text()}\n--- stderr ---\n${err}`,
    exited,
    waitFor(re, ms = 60_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const m = re.exec(text().slice(from));
          if (m == null) return;
          done();
          resolve(m);
        };
        const fail = (why: string) => (): void => {
          done();
          reject(
            new Error(`${why} waiting for ${re} in cairn ${args.join(' ')}:\n${text()}\n${err}`),
          );
        };
        const onExit = fail('exited');
        const timer = setTimeout(fail('timed out'), ms);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        };
        waiters.add(check);
        child.on('exit', onExit);
        check();
      });
    },
  };
}

/** Runs one command to its end (with a deadline). */
export function cairn(args: string[], timeoutMs = 90_000, env?: NodeJS.ProcessEnv): Promise<Done> {
  return start(args, timeoutMs, env).exited;
}

/** SIGTERM, then SIGKILL after 20 s; resolves with how it ended. */
export async function stop(d: Daemon): Promise<Done> {
  if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill('SIGTERM');
  const killer = setTimeout(() => d.child.kill('SIGKILL'), 20_000);
  const done = await d.exited;
  clearTimeout(killer);
  return done;
}

/** Polls `check` every 200 ms until it holds, for at most `ms`. */
export async function until(what: string, check: () => Promise<boolean>, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * A `cairn relay` on loopback (ephemeral, no app), with a chain config file when given, started
 * by `launch` (the test's own, which keeps its daemons to stop them).
 */
export async function startRelay(
  launch: (args: string[]) => Daemon,
  chainFile?: string,
): Promise<{ relay: Daemon; url: string; addr: string }> {
  const relay = launch([
    'relay',
    '--listen',
    '/ip4/127.0.0.1/tcp/0/ws',
    '--http-port',
    '0',
    '--no-app',
    '--ephemeral',
    ...(chainFile != null ? ['--chain-config', chainFile] : []),
  ]);
  const url = (await relay.waitFor(/ http (http:\/\/127\.0\.0\.1:\d+) /))[1]!;
  const addr = (await relay.waitFor(/ libp2p (\/ip4\/127\.0\.0\.1\/\S+)/))[1]!;
  return { relay, url, addr };
}

/** How many hosts the relay's directory lists (its /healthz). */
export async function directorySize(relayUrl: string): Promise<number> {
  const health = (await (await fetch(`${relayUrl}/healthz`)).json()) as { directoryHosts: number };
  return health.directoryHosts;
}

export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** anvil's dev account `i` private key, 0x hex (what a `--key-file` holds). */
export const devKey = (i: number): string => toHex(devAccount(i).getHdKey().privateKey!);

/** Writes `key` to `dir/name` (mode 0600 unless told) and returns the path. */
export async function writeKeyFile(
  dir: string,
  name: string,
  key: string,
  mode = 0o600,
): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${key}\n`, { mode });
  return path;
}
