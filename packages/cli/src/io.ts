/** What a command may touch of its process: streams, environment, and the stop signals. */
export interface Io {
  env: Record<string, string | undefined>;
  /** Standard output, as is. */
  out(text: string): void;
  /** Standard error, as is. */
  err(text: string): void;
  /** A status line (stdout for long-running commands, with the time). */
  log(message: string): void;
  /** Fires on the first SIGINT or SIGTERM (a second one exits at once). */
  interrupted: AbortSignal;
  /** Resolves with the name of the first SIGINT or SIGTERM. */
  untilSignal(): Promise<string>;
}

export function processIo(): Io {
  const controller = new AbortController();
  let received: string | undefined;
  const onSignal = (name: NodeJS.Signals): void => {
    if (received != null) {
      process.stderr.write(`cairn: ${name} again: exiting now\n`);
      process.exit(130);
    }
    received = name;
    const err = new Error(`stopped by ${name}`);
    err.name = 'AbortError';
    controller.abort(err);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    env: process.env,
    out: (text) => void process.stdout.write(text),
    err: (text) => void process.stderr.write(text),
    log: (message) => void process.stdout.write(`${new Date().toISOString()} ${message}\n`),
    interrupted: controller.signal,
    untilSignal: () =>
      new Promise((resolve) => {
        if (controller.signal.aborted) resolve(received!);
        else controller.signal.addEventListener('abort', () => resolve(received!), { once: true });
      }),
  };
}

/**
 * For a long-running command: waits for SIGINT or SIGTERM, then runs `stop`; if that has not
 * finished `timeoutMs` + 10 s later, the process exits with code 1.
 */
export async function stopOnSignal(
  io: Io,
  stop: () => Promise<void>,
  timeoutMs: number,
): Promise<void> {
  const signal = await io.untilSignal();
  io.log(`${signal}: stopping`);
  const force = setTimeout(() => {
    io.log('shutdown took too long: exiting');
    process.exit(1);
  }, timeoutMs + 10_000);
  force.unref();
  await stop();
  clearTimeout(force);
}
