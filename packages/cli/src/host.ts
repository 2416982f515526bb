/** `cairn host`: a headless host over a filesystem store, announced to the relays' directories. */
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CairnNode, Hosting } from '@cairn/peer';
import type { FsShardStore } from '@cairn/store/fs';
import { CliError, formatSize, parseCommand, parseSize, UsageError } from './args.ts';
import { checkRelayInputs, relayInputs, resolveRelays, stopNode, withTimeout } from './network.ts';
import type { Io } from './io.ts';

export const HOST_HELP = `Usage: cairn host --dir DIR --quota SIZE [options]

Runs a headless host: stores other people's encrypted shards in DIR, up to SIZE, serves them over
WebRTC, and announces itself to the relays' directories. Ctrl-C (SIGINT) or SIGTERM stops it.

Options:
  --dir DIR           where shards live (created if missing; one host per DIR)
  --quota SIZE        how much to offer: 500M, 10G, 1T or bytes (K/M/G/T are powers of 1024)
  --relay R           relay multiaddr (/ip4/.../ws/p2p/<id>) or its http(s) URL, repeatable
                      [CAIRN_RELAY, comma-separated] default http://127.0.0.1:5173
  --identity FILE     libp2p key file, or a file holding a 12/24-word recovery phrase
                      default DIR/identity.key (created with mode 0600): a stable peer id
  --price P           token base units per byte per period (integer) default 0
  --wallet 0x...      address that receives payment; default the phrase's wallet, else none
  --announce-every S  seconds between announcements default 300
  -h, --help          show this help
`;

const RESERVATION_TIMEOUT_MS = 30_000;
const STATUS_EVERY_MS = 60_000;

/** One host per directory: a lock file with our pid; a stale one (dead pid) is taken over. */
async function lockDir(dir: string): Promise<() => Promise<void>> {
  const file = join(dir, 'host.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return () => unlink(file).catch(() => {});
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      let alive = false;
      if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch (e) {
          alive = (e as NodeJS.ErrnoException).code === 'EPERM';
        }
      }
      if (alive) throw new CliError(`${dir} is in use by another cairn host (pid ${pid})`);
      await unlink(file).catch(() => {});
    }
  }
  throw new CliError(`could not lock ${dir}`);
}

export async function host(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('host', argv, {
    help: { type: 'boolean', short: 'h' },
    dir: { type: 'string' },
    quota: { type: 'string' },
    relay: { type: 'string', multiple: true },
    identity: { type: 'string' },
    price: { type: 'string' },
    wallet: { type: 'string' },
    'announce-every': { type: 'string' },
  });
  if (values.help === true) {
    io.out(HOST_HELP);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument '${positionals[0]}'`, 'host');
  if (values.dir == null) throw new UsageError('--dir DIR is required', 'host');
  if (values.quota == null) throw new UsageError('--quota SIZE is required', 'host');
  const quota = parseSize(values.quota, '--quota', 'host');
  if (values.price != null && !/^\d+$/.test(values.price))
    throw new UsageError(`--price must be a non-negative integer, got '${values.price}'`, 'host');
  const price = BigInt(values.price ?? '0');
  if (values.wallet != null && !/^0x[0-9a-fA-F]{40}$/.test(values.wallet))
    throw new UsageError(`--wallet must be an address like 0x followed by 40 hex digits`, 'host');
  let announceEveryMs: number | undefined;
  if (values['announce-every'] != null) {
    const s = Number(values['announce-every']);
    if (!Number.isFinite(s) || s < 1)
      throw new UsageError(`--announce-every must be a number of seconds >= 1`, 'host');
    announceEveryMs = s * 1000;
  }
  const relayArgs = checkRelayInputs(relayInputs(values.relay, io.env), 'host');
  const dir = resolve(values.dir);
  // Loaded only now, so usage errors and --help answer at once.
  const { createCairnNode, isWebRTCAddress, startHosting } = await import('@cairn/peer');
  const { FsShardStore } = await import('@cairn/store/fs');
  const { loadHostIdentity } = await import('./identity.ts');
  const relays = await resolveRelays(relayArgs, 'host');

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const unlock = await lockDir(dir);
  let node: CairnNode | undefined;
  let hosting: Hosting | undefined;
  let store: FsShardStore | undefined;
  let status: ReturnType<typeof setInterval> | undefined;
  const shutdown = async (): Promise<void> => {
    clearInterval(status);
    if (hosting != null)
      await withTimeout(hosting.stop(), 5_000, 'stopping the host').catch(() => {});
    await stopNode(node);
    await store?.close().catch(() => {});
    await unlock();
  };
  try {
    const identity = await loadHostIdentity(values.identity ?? join(dir, 'identity.key'));
    const wallet = values.wallet ?? identity.wallet;
    store = await FsShardStore.open({ dir, quota });
    node = await createCairnNode({
      privateKey: identity.privateKey,
      relays: relays.directories,
      allowPrivateAddresses: true,
    });
    io.log(`peer id ${node.peerId.toString()} (identity: ${identity.source})`);
    try {
      await node.waitForMultiaddr(isWebRTCAddress, {
        signal: AbortSignal.timeout(RESERVATION_TIMEOUT_MS),
      });
    } catch (err) {
      throw new CliError(
        `relay unreachable: no reservation on ${relays.directories.join(', ')} within ${RESERVATION_TIMEOUT_MS / 1000} s`,
        { cause: err },
      );
    }
    const failures = new Map<string, string>();
    hosting = await startHosting(node, {
      store,
      directories: relays.directories,
      ...(wallet != null ? { wallet } : {}),
      price,
      ...(announceEveryMs != null ? { announceEveryMs } : {}),
      onAnnounceError: (err, directory) => {
        failures.set(directory, err.message);
        io.log(`announcement to ${directory} failed: ${err.message} (will retry)`);
      },
    });
    const usageLine = async (): Promise<string> => {
      const u = await store!.usage();
      return `${formatSize(u.used)} of ${formatSize(u.quota)} used, ${u.shards} shards`;
    };
    io.log(`store ${dir}: ${await usageLine()}`);
    for (const d of relays.directories)
      io.log(`relay ${d}${failures.has(d) ? ' (announcement failed)' : ' (announced)'}`);
    if (wallet != null) io.log(`wallet ${wallet}, price ${price} per byte per period`);
    io.log('hosting; Ctrl-C to stop');
    let last = '';
    status = setInterval(() => {
      void usageLine().then(
        (line) => {
          if (line !== last) io.log(`usage: ${line}`);
          last = line;
        },
        () => {},
      );
    }, STATUS_EVERY_MS);
    status.unref();
  } catch (err) {
    await shutdown();
    throw err;
  }

  const signal = await io.untilSignal();
  io.log(`${signal}: stopping`);
  const force = setTimeout(() => {
    io.log('shutdown took too long: exiting');
    process.exit(1);
  }, 15_000);
  force.unref();
  await shutdown();
  clearTimeout(force);
  io.log('stopped');
  return 0;
}
