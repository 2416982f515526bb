/** `cairn get LINK [OUT]`: fetches a file by its share link, streaming it to OUT or stdout. */
import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { CairnNode } from '@cairn/peer';
import { formatSize, parseCommand, UsageError } from './args.ts';
import { chainFromRelay } from './chain.ts';
import type { Io } from './io.ts';
import {
  checkRelayInputs,
  clientNode,
  idleWatchdog,
  relayInputs,
  resolveRelays,
  stopNode,
} from './network.ts';

export const GET_HELP = `Usage: cairn get LINK [OUT] [options]

Fetches the file behind a share link from its hosts, checks every piece, decrypts it, and
streams it to OUT (a file, or a folder to keep the file's own name) or to stdout when OUT is
absent or '-'. A file OUT appears only once the whole file has arrived and verified.
Hosts that fail or serve corrupt data are reported on stderr.

Options:
  --relay R      relay multiaddr (/ip4/.../ws/p2p/<id>) or its http(s) URL, repeatable
                 [CAIRN_RELAY, comma-separated] default: the link's own http(s) origin,
                 else http://127.0.0.1:5173
  -h, --help     show this help
`;

const IDLE_TIMEOUT_MS = 60_000;

/** A stored file name made safe to use inside a folder. */
function safeName(name: string): string {
  const base = [...basename(name.replace(/\\/g, '/'))]
    .map((c) => (c.charCodeAt(0) < 0x20 ? '_' : c))
    .join('');
  return base === '' || base === '.' || base === '..' ? 'cairn-download' : base;
}

/** The link's http(s) origin, when the link is a full URL (the relay that serves the app). */
function linkOrigin(link: string): string | undefined {
  if (!/^https?:\/\//i.test(link)) return undefined;
  try {
    return new URL(link).origin;
  } catch {
    return undefined;
  }
}

export async function get(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('get', argv, {
    help: { type: 'boolean', short: 'h' },
    relay: { type: 'string', multiple: true },
  });
  if (values.help === true) {
    io.out(GET_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('missing LINK', 'get');
  if (positionals.length > 2)
    throw new UsageError(`unexpected argument '${positionals[2]}'`, 'get');
  const link = positionals[0]!;
  const outArg = positionals[1];
  const relayArgs = checkRelayInputs(relayInputs(values.relay, io.env, linkOrigin(link)), 'get');
  // Loaded only now, so usage errors and --help answer at once.
  const { decodeShareLink } = await import('@cairn/codec');
  const { CairnNetwork, decodeManifestRef, getFile } = await import('@cairn/drive');
  // Check the link before touching the network: a typo fails at once.
  decodeManifestRef(decodeShareLink(link).manifestRef);

  let outPath: string | undefined;
  let outIsDir = false;
  if (outArg != null && outArg !== '-') {
    outPath = resolve(outArg);
    const st = await stat(outPath).catch(() => undefined);
    outIsDir = st?.isDirectory() === true;
    // Fail now, not after the download, when the folder to write into is missing.
    const parent = outIsDir ? outPath : dirname(outPath);
    const pst = await stat(parent);
    if (!pst.isDirectory())
      throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR', path: parent });
  }

  const relays = await resolveRelays(relayArgs, 'get', io.interrupted);
  let node: CairnNode | undefined;
  let tmp: { path: string; fh: FileHandle } | undefined;
  const watchdog = idleWatchdog(IDLE_TIMEOUT_MS, 'download', io.interrupted);
  try {
    node = await clientNode();
    const network = new CairnNetwork({ node, directories: relays.directories });
    const reported = new Set<string>();
    // With the relay's chain, shards repaired since the link was made are found where they are
    // now; a chain config that does not parse is ignored (the link's hosts are used as they are).
    const reader = await chainReaderOf(relays.chain);
    const file = await getFile(network, link, {
      ...(reader ? { reader } : {}),
      signal: watchdog.signal,
      onFault: (f) => {
        const key = `${f.host} ${f.reason}`;
        if (reported.has(key)) return;
        reported.add(key);
        io.err(
          `host ${f.host}: ${f.reason === 'corrupt' ? 'served corrupt data' : 'unavailable'} (shard ${f.shard}, segment ${f.segment}); using others\n`,
        );
      },
    });
    watchdog.touch();
    const target =
      outPath == null
        ? undefined
        : outIsDir
          ? join(outPath, safeName(file.manifest.name))
          : outPath;
    io.err(
      `${file.manifest.name || '(no name)'}: ${formatSize(file.manifest.size)}, k=${file.manifest.k} m=${file.manifest.m}\n`,
    );
    let written = 0;
    if (target == null) {
      for await (const chunk of file.body) {
        watchdog.touch();
        await writeStdout(chunk, watchdog.signal);
        written += chunk.byteLength;
      }
    } else {
      const path = join(
        dirname(target),
        `.${basename(target)}.${randomBytes(6).toString('hex')}.part`,
      );
      tmp = { path, fh: await open(path, 'wx', 0o644) };
      for await (const chunk of file.body) {
        watchdog.touch();
        await tmp.fh.write(chunk);
        written += chunk.byteLength;
      }
      await tmp.fh.sync();
      await tmp.fh.close();
      await rename(path, target);
      tmp = undefined;
    }
    if (written !== file.manifest.size)
      throw new Error(`got ${written} bytes, the file has ${file.manifest.size}`);
    io.err(`wrote ${formatSize(written)}${target != null ? ` to ${target}` : ''}\n`);
    return 0;
  } finally {
    watchdog.stop();
    if (tmp != null) {
      await tmp.fh.close().catch(() => {});
      await unlink(tmp.path).catch(() => {});
    }
    await stopNode(node);
  }
}

/**
 * Writes to stdout and waits until it is flushed, so at most one chunk waits in memory however
 * slow the reader is.
 */
function writeStdout(chunk: Uint8Array, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    process.stdout.write(chunk, (err) => {
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    });
  });
}

async function chainReaderOf(chain: { value: unknown; source: string } | undefined) {
  const choice = await chainFromRelay(chain?.value, chain?.source ?? '').catch(() => undefined);
  if (choice === undefined) return undefined;
  const { createChainReader } = await import('@cairn/contracts');
  return createChainReader(choice.config);
}
