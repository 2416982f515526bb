/** `cairn put FILE`: encrypts, erasure-codes and uploads a file; prints its share link. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { UploadProgress } from '@cairn/drive';
import type { CairnNode } from '@cairn/peer';
import { CliError, formatSize, parseCommand, parseCount, UsageError } from './args.ts';
import type { Io } from './io.ts';
import {
  checkRelayInputs,
  clientNode,
  idleWatchdog,
  relayInputs,
  resolveRelays,
  stopNode,
} from './network.ts';

export const PUT_HELP = `Usage: cairn put FILE [options]

Encrypts FILE on this machine, erasure-codes it into k + m shards, stores one shard on each of
k + m hosts, and prints the share link on stdout (progress goes to stderr). Anyone holding the
link can fetch and decrypt the file; any k of the shards are enough.

Options:
  --relay R      relay multiaddr (/ip4/.../ws/p2p/<id>) or its http(s) URL, repeatable
                 [CAIRN_RELAY, comma-separated] default http://127.0.0.1:5173
  --k N          data shards (any k rebuild the file)
  --m N          parity shards (hosts that may be lost)
                 default: k = m = half of the listed hosts, at most 10 + 10
  --name NAME    name stored (encrypted) with the file; default FILE's name
  --type MIME    media type stored with the file
  -h, --help     show this help
`;

const IDLE_TIMEOUT_MS = 60_000;
const PROBE_TIMEOUT_MS = 30_000;

export async function put(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('put', argv, {
    help: { type: 'boolean', short: 'h' },
    relay: { type: 'string', multiple: true },
    k: { type: 'string' },
    m: { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string' },
  });
  if (values.help === true) {
    io.out(PUT_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('missing FILE', 'put');
  if (positionals.length > 1)
    throw new UsageError(`unexpected argument '${positionals[1]}'`, 'put');
  let k = parseCount(values.k, '--k', 1);
  let m = parseCount(values.m, '--m', 0);
  if (k != null && m != null && k + m > 256)
    throw new UsageError('k + m must be at most 256', 'put');
  const relayArgs = checkRelayInputs(relayInputs(values.relay, io.env), 'put');
  const path = resolve(positionals[0]!);
  const { CairnNetwork, putFile } = await import('@cairn/drive');
  const info = await stat(path);
  if (!info.isFile()) throw new CliError(`not a regular file: ${path}`);
  const relays = await resolveRelays(relayArgs, 'put', io.interrupted);

  let node: CairnNode | undefined;
  const watchdog = idleWatchdog(IDLE_TIMEOUT_MS, 'upload', io.interrupted);
  try {
    node = await clientNode();
    // WebRTC dials run one at a time, so the last host probed waits for the others: give the
    // probe (5 s by default, queueing included) room on a busy machine.
    const network = new CairnNetwork({
      node,
      directories: relays.directories,
      probeTimeoutMs: PROBE_TIMEOUT_MS,
    });
    if (k == null || m == null) {
      const listed = (await network.hosts({}, watchdog.signal)).length;
      if (listed === 0) throw new CliError('not enough hosts: the relay lists no host');
      if (k == null && m == null) {
        const n = Math.min(20, listed);
        k = Math.max(1, Math.floor(n / 2));
        m = n - k;
      } else if (k == null) {
        k = Math.max(1, listed - m!);
      } else {
        m = Math.max(0, Math.min(k, listed - k));
      }
      io.err(`${listed} hosts listed: k=${k}, m=${m}\n`);
    }
    const progress = reporter(io, info.size);
    const result = await putFile(network, () => createReadStream(path), {
      k,
      m,
      name: values.name ?? basename(path),
      ...(values.type != null ? { mimeType: values.type } : {}),
      size: info.size,
      ...(relays.appUrl != null ? { baseUrl: relays.appUrl } : {}),
      signal: watchdog.signal,
      onProgress: (p) => {
        watchdog.touch();
        progress(p);
      },
    });
    const hosts = new Set(result.placements.map((p) => p.host)).size;
    io.err(
      `stored ${formatSize(info.size)} as ${k! + m!} shards on ${hosts} hosts (any ${k} rebuild it)\n`,
    );
    io.out(`${result.link}\n`);
    return 0;
  } finally {
    watchdog.stop();
    await stopNode(node);
  }
}

/** Progress on stderr: a rewritten line on a terminal, a line per phase and quarter otherwise. */
function reporter(io: Io, total: number): (p: UploadProgress) => void {
  const tty = process.stderr.isTTY === true;
  let lastPhase = '';
  let lastQuarter = -1;
  let lastDraw = 0;
  return (p) => {
    const pct = total > 0 ? Math.min(100, Math.floor((p.bytes / total) * 100)) : 100;
    const line = `${p.phase}: ${formatSize(p.bytes)} of ${formatSize(total)} (${pct}%), ${p.shardsStored}/${p.shards} shards stored`;
    if (tty) {
      const now = Date.now();
      if (p.phase === lastPhase && now - lastDraw < 100 && p.phase !== 'done') return;
      lastDraw = now;
      io.err(`\r\x1b[K${line}${p.phase === 'done' ? '\n' : ''}`);
      lastPhase = p.phase;
      return;
    }
    const quarter = Math.floor(pct / 25);
    if (p.phase !== lastPhase || quarter !== lastQuarter) {
      io.err(`${line}\n`);
      lastPhase = p.phase;
      lastQuarter = quarter;
    }
  };
}
