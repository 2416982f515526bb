/** `cairn put FILE`: encrypts, erasure-codes and uploads a file; prints its share link. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { UploadProgress } from '@cairn/drive';
import type { ChainSigner } from '@cairn/contracts';
import type { CairnNode } from '@cairn/peer';
import { CliError, formatSize, parseCommand, parseCount, UsageError } from './args.ts';
import {
  chainFromRelay,
  connectSigner,
  describeChain,
  formatPeriods,
  formatTokens,
  keySource,
  loadChainFile,
  loadKeyFile,
  parseUnitsFlag,
} from './chain.ts';
import { findError } from './errors.ts';
import type { Io } from './io.ts';
import {
  checkRelayInputs,
  clientNode,
  idleWatchdog,
  relayInputs,
  resolveRelays,
  stopNode,
} from './network.ts';

/** Periods a paid put's deals run unless --duration says otherwise (30 days of hour periods). */
const DEFAULT_DURATION = 720;
/** On a local chain, ask the faucet when the wallet holds less than this (1 CAIRN). */
const FAUCET_BELOW = 10n ** 18n;

export const PUT_HELP = `Usage: cairn put FILE [options]

Encrypts FILE on this machine, erasure-codes it into k + m shards, stores one shard on each of
k + m hosts, and prints the share link on stdout (progress goes to stderr). Anyone holding the
link can fetch and decrypt the file; any k of the shards are enough.

With a wallet (--key-file, or CAIRN_KEY_FILE) on a network that has a chain (the relay's
/cairn.json names one, or --chain-config), the put is paid: each chosen host quotes a price,
every deal is opened in one transaction (the price held in escrow, paid to the host period by
period while it proves it holds the shard), and only then are the shards sent. The deal ids and
the total cost go to stderr. Hosts on a paid network store only for funded deals.

Options:
  --relay R        relay multiaddr (/ip4/.../ws/p2p/<id>) or its http(s) URL, repeatable
                   [CAIRN_RELAY, comma-separated] default http://127.0.0.1:5173
  --k N            data shards (any k rebuild the file)
  --m N            parity shards (hosts that may be lost)
                   default: one shard per listed host, at most 16 + 24 (the churn
                   simulation's RS(16,24)), 2.5x overhead below that
  --name NAME      name stored (encrypted) with the file; default FILE's name
  --type MIME      media type stored with the file
  -h, --help       show this help

Paying:
  --key-file PATH  the wallet that pays: a file (mode 0600) holding one 0x private key
                   [CAIRN_KEY_FILE]; on a local chain the faucet tops it up when it runs low
  --chain-config FILE  the chain (contracts config JSON) default: the relay's /cairn.json chain
  --duration N     periods the deals run default ${DEFAULT_DURATION}
  --max-price P    refuse hosts asking more than P token base units per byte per period
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
    'key-file': { type: 'string' },
    'chain-config': { type: 'string' },
    duration: { type: 'string' },
    'max-price': { type: 'string' },
  });
  if (values.help === true) {
    io.out(PUT_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('missing FILE', 'put');
  if (positionals.length > 1)
    throw new UsageError(`unexpected argument '${positionals[1]}'`, 'put');
  let k = parseCount(values.k, '--k', 1, 'put');
  let m = parseCount(values.m, '--m', 0, 'put');
  if (k != null && m != null && k + m > 256)
    throw new UsageError('k + m must be at most 256', 'put');
  const duration = parseCount(values.duration, '--duration', 1, 'put') ?? DEFAULT_DURATION;
  const maxPrice =
    values['max-price'] != null
      ? parseUnitsFlag(values['max-price'], '--max-price', 'put')
      : undefined;
  const key = keySource(values['key-file'], io.env);
  if (key == null) {
    const paidOnly = (['duration', 'max-price', 'chain-config'] as const).find(
      (f) => values[f] != null,
    );
    if (paidOnly != null)
      throw new UsageError(`--${paidOnly} is for a paid put: pass --key-file PATH too`, 'put');
  }
  const relayArgs = checkRelayInputs(relayInputs(values.relay, io.env), 'put');
  const path = resolve(positionals[0]!);
  const info = await stat(path);
  if (!info.isFile()) throw new CliError(`not a regular file: ${path}`);
  // The wallet before anything else: a bad key file fails at once.
  const account = key != null ? await loadKeyFile(key) : undefined;
  const chainFile =
    values['chain-config'] != null ? await loadChainFile(values['chain-config']) : undefined;
  const relays = await resolveRelays(relayArgs, 'put', io.interrupted);

  let signer: ChainSigner | undefined;
  const chain =
    account != null
      ? (chainFile ?? (await chainFromRelay(relays.chain?.value, relays.chain?.source ?? '')))
      : undefined;
  if (account != null && chain == null) {
    // A key named on this command line is meant to pay; one from the environment may be meant
    // for another network.
    if (key!.from === '--key-file')
      throw new UsageError(
        `--key-file is for a paid put, but ${relayArgs.join(', ')} publishes no chain: pass --chain-config FILE, or drop --key-file for an unpaid put`,
        'put',
      );
    io.err(`CAIRN_KEY_FILE not used: ${relayArgs.join(', ')} publishes no chain (unpaid put)\n`);
  }
  if (account != null && chain != null) {
    signer = await connectSigner(chain.config, account);
    const balance = await fundedBalance(signer, io);
    io.err(
      `paying from ${signer.account} on ${describeChain(chain.config)}: ${formatTokens(balance)}; ` +
        `deals for ${formatPeriods(duration, chain.config.periodSeconds)}\n`,
    );
  }

  // Loaded only now: usage errors, a bad key file or chain answer at once.
  const { CairnNetwork, putFile, redundancyFor } = await import('@cairn/drive');
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
        // The default redundancy (the churn simulation's scheme, scaled to the hosts listed).
        ({ k, m } = redundancyFor(listed));
      } else if (k == null) {
        k = Math.max(1, listed - m!);
      } else {
        m = Math.max(0, Math.min(k, listed - k));
      }
      io.err(`${listed} hosts listed: k=${k}, m=${m}\n`);
    }
    const progress = reporter(io, info.size);
    let result: Awaited<ReturnType<typeof putFile>>;
    try {
      result = await putFile(network, () => createReadStream(path), {
        k,
        m,
        name: values.name ?? basename(path),
        ...(values.type != null ? { mimeType: values.type } : {}),
        size: info.size,
        ...(relays.appUrl != null ? { baseUrl: relays.appUrl } : {}),
        ...(signer != null
          ? {
              paid: {
                signer,
                duration,
                ...(maxPrice != null ? { maxPricePerBytePeriod: maxPrice } : {}),
              },
            }
          : {}),
        signal: watchdog.signal,
        onProgress: (p) => {
          watchdog.touch();
          progress(p);
        },
      });
    } catch (err) {
      if (signer == null && findError(err, isUnpaidRefusal) != null)
        throw new CliError(
          'these hosts store only for funded deals: pass --key-file PATH (a wallet key file, mode 0600) to pay for the storage',
          { cause: err },
        );
      throw err;
    }
    const hosts = new Set(result.placements.map((p) => p.host)).size;
    io.err(
      `stored ${formatSize(info.size)} as ${k! + m!} shards on ${hosts} hosts (any ${k} rebuild it)\n`,
    );
    if (signer != null) await reportDeals(signer, result.placements, io);
    io.out(`${result.link}\n`);
    return 0;
  } finally {
    watchdog.stop();
    await stopNode(node);
  }
}

/** A host's answer to a put that named no deal: it stores only what it is paid for. */
function isUnpaidRefusal(e: { name?: string; message?: string }): boolean {
  return e.name === 'PutRefusedError' && /funded deal/.test(e.message ?? '');
}

/** The wallet's token balance; on a local chain, topped up by the faucet first when low. */
async function fundedBalance(signer: ChainSigner, io: Io): Promise<bigint> {
  const { drip, tokenBalance } = await import('@cairn/contracts');
  const balance = await tokenBalance(signer, signer.account);
  if (balance >= FAUCET_BELOW || signer.config.faucet == null) return balance;
  await drip(signer);
  const now = await tokenBalance(signer, signer.account);
  io.err(`faucet (local chain): +${formatTokens(now - balance)}\n`);
  return now;
}

/** The deals on stderr, one line each, then their total (the escrow the wallet paid). */
async function reportDeals(
  signer: ChainSigner,
  placements: readonly { shard: number; host: string; dealId?: bigint }[],
  io: Io,
): Promise<void> {
  const { getDeal } = await import('@cairn/contracts');
  const withDeal = placements.filter((p) => p.dealId != null);
  const deals = await Promise.all(withDeal.map((p) => getDeal(signer, p.dealId!)));
  let total = 0n;
  withDeal.forEach((p, i) => {
    const d = deals[i]!;
    total += d.price;
    io.err(
      `deal ${p.dealId}: shard ${p.shard} on ${p.host}, ${d.size} bytes, ${formatTokens(d.price)}\n`,
    );
  });
  const ids = withDeal.map((p) => p.dealId!.toString()).join(', ');
  io.err(`paid ${formatTokens(total)} into escrow for ${withDeal.length} deals (ids ${ids})\n`);
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
