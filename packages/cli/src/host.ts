/** `cairn host`: a headless host over a filesystem store, announced to the relays' directories. */
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ChainSigner } from '@cairn/contracts';
import type { HostEvent, PaidHost, Registration, StateStore } from '@cairn/earn';
import type { CairnNode, Hosting } from '@cairn/peer';
import type { FsShardStore } from '@cairn/store/fs';
import { CliError, formatSize, parseCommand, parseCount, parseSize, UsageError } from './args.ts';
import {
  chainFromRelay,
  connectSigner,
  describeChain,
  formatSpan,
  formatTokens,
  keySource,
  loadChainFile,
  loadKeyFile,
  parseTokens,
  parseUnitsFlag,
} from './chain.ts';
import { describeError } from './errors.ts';
import { checkRelayInputs, relayInputs, resolveRelays, stopNode, withTimeout } from './network.ts';
import { stopOnSignal, type Io } from './io.ts';

const RESERVATION_TIMEOUT_MS = 30_000;
const STATUS_EVERY_MS = 60_000;
/** A paid host's stop waits for the proof in flight (one transaction) before closing. */
const STOP_PAID_TIMEOUT_MS = 25_000;
/** 10^9 units per byte per period: 1 CAIRN per 10^9 bytes per period. */
const DEFAULT_PRICE = 1_000_000_000n;
const DEFAULT_STAKE = '100';

export const HOST_HELP = `Usage: cairn host --dir DIR --quota SIZE [options]

Runs a headless host: stores other people's encrypted shards in DIR, up to SIZE, serves them over
WebRTC, and announces itself to the relays' directories. Ctrl-C (SIGINT) or SIGTERM stops it.

When the network has a chain (--chain-config, or the relay's /cairn.json names one), the host is
paid: it registers in the storage market with a stake, signs quotes, stores only for funded
deals, proves the chain's challenges every period, and claims and withdraws what it earns. Its
state (DIR/earn-state.json) lets a restart resume where it stopped.

Options:
  --dir DIR           where shards live (created if missing; one host per DIR)
  --quota SIZE        how much to offer: 500M, 10G, 1T or bytes (K/M/G/T are powers of 1024)
  --relay R           relay multiaddr (/ip4/.../ws/p2p/<id>) or its http(s) URL, repeatable
                      [CAIRN_RELAY, comma-separated] default http://127.0.0.1:5173
  --identity FILE     libp2p key file, or a file holding a 12/24-word recovery phrase
                      default DIR/identity.key (created with mode 0600): a stable peer id
  --announce-every S  seconds between announcements default 300
  --status-every S    seconds between status lines (printed when something changed) default 60
  -h, --help          show this help

Paid hosting:
  --key-file PATH     the wallet: a file (mode 0600) holding one 0x private key [CAIRN_KEY_FILE]
                      default: the --identity recovery phrase's wallet
  --chain-config FILE the chain (contracts config JSON) default: the relay's /cairn.json chain
  --price P           token base units per byte per period (integer)
                      default ${DEFAULT_PRICE} (1 CAIRN per 10^9 bytes per period)
  --stake AMOUNT      tokens held in the market as collateral (each deal locks part of it)
                      default ${DEFAULT_STAKE}; on a local chain the faucet pays for it
  --claim-every N     claim and withdraw earnings at least every N periods default 24
  --free              host without pay even when the network has a chain

Free hosting (no chain, or --free):
  --price P           price announced, token base units per byte per period default 0
  --wallet 0x...      address announced for payment; default the phrase's wallet, else none
`;

/**
 * One process per directory: a lock file (`host.lock`, `mediator.lock`) with our pid; a stale one
 * (dead pid) is taken over.
 */
export async function lockDir(dir: string, what = 'host'): Promise<() => Promise<void>> {
  const file = join(dir, `${what}.lock`);
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
      if (alive) throw new CliError(`${dir} is in use by another cairn ${what} (pid ${pid})`);
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
    'status-every': { type: 'string' },
    'key-file': { type: 'string' },
    'chain-config': { type: 'string' },
    stake: { type: 'string' },
    'claim-every': { type: 'string' },
    free: { type: 'boolean' },
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
  const free = values.free === true;
  if (free) {
    const paidOnly = (['key-file', 'chain-config', 'stake', 'claim-every'] as const).find(
      (k) => values[k] != null,
    );
    if (paidOnly != null)
      throw new UsageError(`--${paidOnly} is for paid hosting; --free hosts without pay`, 'host');
  }
  if (values.wallet != null && values['key-file'] != null)
    throw new UsageError(
      "--wallet is for free hosting: a paid host is paid at its --key-file's address",
      'host',
    );
  const price = values.price != null ? parseUnitsFlag(values.price, '--price', 'host') : undefined;
  if (values.wallet != null && !/^0x[0-9a-fA-F]{40}$/.test(values.wallet))
    throw new UsageError(`--wallet must be an address like 0x followed by 40 hex digits`, 'host');
  const stake = parseTokens(values.stake ?? DEFAULT_STAKE, '--stake', 'host');
  const claimEvery = parseCount(values['claim-every'], '--claim-every', 0, 'host');
  const announceEveryMs = seconds(values['announce-every'], '--announce-every');
  const statusEveryMs = seconds(values['status-every'], '--status-every') ?? STATUS_EVERY_MS;
  const relayArgs = checkRelayInputs(relayInputs(values.relay, io.env), 'host');
  const dir = resolve(values.dir);
  const key = free ? undefined : keySource(values['key-file'], io.env);

  // The wallet and the chain file first: a bad key file fails before anything else is loaded.
  const keyAccount = key != null ? await loadKeyFile(key) : undefined;
  const chainFile =
    values['chain-config'] != null ? await loadChainFile(values['chain-config']) : undefined;
  const relays = await resolveRelays(relayArgs, 'host', io.interrupted);
  const chain = free
    ? undefined
    : (chainFile ?? (await chainFromRelay(relays.chain?.value, relays.chain?.source ?? '')));
  if (chain == null && values['key-file'] != null)
    throw new UsageError(
      `--key-file is for a paid network, but ${relayArgs.join(', ')} publishes no chain: pass --chain-config FILE, or drop --key-file to host for free`,
      'host',
    );
  if (chain == null && keyAccount != null)
    io.log(`CAIRN_KEY_FILE not used: ${relayArgs.join(', ')} publishes no chain (free hosting)`);
  // A chain that is down or not the one configured: said before anything else starts.
  let signer =
    chain != null && keyAccount != null ? await connectSigner(chain.config, keyAccount) : undefined;
  // Loaded only now, so usage errors, --help and the checks above answer at once.
  const { createCairnNode, isWebRTCAddress, startHosting } = await import('@cairn/peer');
  const { FsShardStore } = await import('@cairn/store/fs');
  const { loadHostIdentity } = await import('./identity.ts');

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const unlock = await lockDir(dir);
  let node: CairnNode | undefined;
  let hosting: Hosting | undefined;
  let paid: PaidHost | undefined;
  let store: FsShardStore | undefined;
  let status: ReturnType<typeof setInterval> | undefined;
  /** The paid host's totals once it stopped, for the last line. */
  let totals: string | undefined;
  const shutdown = async (): Promise<void> => {
    clearInterval(status);
    // The daemon first: a proof being sent is finished, not cut in half.
    if (paid != null) {
      await withTimeout(paid.stop(), STOP_PAID_TIMEOUT_MS, 'stopping the host').catch((err) =>
        io.log(describeError(err)),
      );
      totals = await paidStatusLine(paid, true).catch(() => undefined);
    } else if (hosting != null)
      await withTimeout(hosting.stop(), 5_000, 'stopping the host').catch(() => {});
    await stopNode(node);
    await store?.close().catch(() => {});
    await unlock();
  };
  try {
    const identity = await loadHostIdentity(values.identity ?? join(dir, 'identity.key'));
    // The public key's text is the peer id.
    const peerId = identity.privateKey.publicKey.toString();
    if (chain != null && signer == null) {
      if (identity.account == null)
        throw new UsageError(
          `${chain.source} names ${describeChain(chain.config)}: hosts there are paid. Pass --key-file PATH (a mode 0600 file holding the wallet's 0x private key), or --free to host without pay`,
          'host',
        );
      signer = await connectSigner(chain.config, identity.account);
    }
    io.log(`peer id ${peerId} (identity: ${identity.source})`);
    const pricePaid = price ?? DEFAULT_PRICE;
    if (signer != null) {
      const { ensureRegistered } = await import('@cairn/earn');
      io.log(
        `wallet ${signer.account} on ${describeChain(chain!.config)}, ${chain!.config.periodSeconds} s periods (from ${chain!.source})`,
      );
      // Registered before the node starts: without funds there is no point in waiting for it.
      const registration = await ensureRegistered(signer, {
        peerId,
        pricePerBytePeriod: pricePaid,
        stake,
      });
      io.log(registrationLine(registration, signer.account));
    }
    store = await FsShardStore.open({ dir, quota });
    node = await createCairnNode({
      privateKey: identity.privateKey,
      relays: relays.directories,
      allowPrivateAddresses: true,
    });
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
    const onAnnounceError = (err: Error, directory: string): void => {
      failures.set(directory, err.message);
      io.log(`announcement to ${directory} failed: ${err.message} (will retry)`);
    };
    const hostingOptions = {
      persistent: true,
      ...(announceEveryMs != null ? { announceEveryMs } : {}),
    };
    if (signer != null) {
      const { startPaidHost } = await import('@cairn/earn');
      const state = await earnState(join(dir, 'earn-state.json'), signer, io);
      paid = await startPaidHost({
        node,
        store,
        directories: relays.directories,
        signer,
        pricePerBytePeriod: pricePaid,
        stake,
        state,
        onEvent: (e) => {
          const line = eventLine(e, chain!.config.periodSeconds);
          if (line != null) io.log(line);
        },
        ...(claimEvery != null ? { daemon: { claimEveryPeriods: claimEvery } } : {}),
        hosting: hostingOptions,
        onAnnounceError,
      });
      hosting = paid.hosting;
    } else {
      const wallet = values.wallet ?? identity.wallet;
      hosting = await startHosting(node, {
        store,
        directories: relays.directories,
        ...(wallet != null ? { wallet } : {}),
        price: price ?? 0n,
        ...hostingOptions,
        onAnnounceError,
      });
      if (wallet != null) io.log(`wallet ${wallet}, price ${price ?? 0n} per byte per period`);
    }
    const usageLine = async (): Promise<string> => {
      const u = await store!.usage();
      return `${formatSize(u.used)} of ${formatSize(u.quota)} used, ${u.shards} shards`;
    };
    io.log(`store ${dir}: ${await usageLine()}`);
    for (const d of relays.directories)
      io.log(`relay ${d}${failures.has(d) ? ' (announcement failed)' : ' (announced)'}`);
    if (paid != null) {
      io.log(
        `paid hosting: price ${pricePaid} per byte per period (${formatTokens(pricePaid * 10n ** 9n)} per 10^9 bytes per period), ` +
          `state ${join(dir, 'earn-state.json')}`,
      );
    }
    let last = paid != null ? await paidStatusLine(paid) : '';
    if (last !== '') io.log(last);
    io.log('hosting; Ctrl-C to stop');
    const h = hosting;
    status = setInterval(() => {
      const line =
        paid != null
          ? paidStatusLine(paid)
          : usageLine().then((u) => `usage: ${u}; ${trafficText(h.service.traffic())}`);
      void line.then(
        (text) => {
          if (text !== last) io.log(text);
          last = text;
        },
        () => {},
      );
    }, statusEveryMs);
    status.unref();
  } catch (err) {
    await shutdown();
    throw err;
  }

  await stopOnSignal(io, shutdown, STOP_PAID_TIMEOUT_MS);
  if (totals != null) io.log(totals);
  io.log('stopped');
  return 0;
}

/** Where in the state file the chain it belongs to is noted. */
const CHAIN_MARK_KEY = 'cairn-host:chain';

/**
 * The daemon's state file, checked to belong to this very chain: a local chain that was reset
 * (a new anvil) keeps its chain id and contract addresses, and a cursor past its head would hide
 * every new deal. The mark is the chain id, the market and the hash of the deployment block; a
 * state for another chain is set aside (renamed) and the daemon starts afresh.
 */
async function earnState(path: string, signer: ChainSigner, io: Io): Promise<StateStore> {
  const { FileState } = await import('@cairn/earn/node');
  const { config } = signer;
  const block = await signer.publicClient.getBlock({ blockNumber: BigInt(config.deployBlock) });
  const mark = `${config.chainId}:${config.market.toLowerCase()}:${block.hash}`;
  let state = new FileState(path);
  const saved = state.get(CHAIN_MARK_KEY);
  if (saved !== mark) {
    if (saved != null) {
      const aside = `${path}.old`;
      await rename(path, aside);
      io.log(`earning state was for another chain (reset or redeployed): moved to ${aside}`);
      state = new FileState(path);
    }
    state.set(CHAIN_MARK_KEY, mark);
  }
  return state;
}

function seconds(text: string | undefined, what: string): number | undefined {
  if (text == null) return undefined;
  const s = Number(text);
  if (!Number.isFinite(s) || s < 1)
    throw new UsageError(`${what} must be a number of seconds >= 1, got '${text}'`, 'host');
  return s * 1000;
}

function registrationLine(r: Registration, account: string): string {
  const what = {
    registered: 'registered in the market',
    updated: 'registration updated (peer id or price)',
    'topped-up': 'stake topped up',
    unchanged: 'already registered',
  }[r.action];
  const faucet = r.dripped > 0n ? `; the faucet sent ${formatTokens(r.dripped)}` : '';
  return (
    `${what}: ${account} stakes ${formatTokens(r.record.stake)} (${formatTokens(r.record.locked)} locked by ` +
    `${count(r.record.activeDeals, 'deal')}), price ${r.record.pricePerBytePeriod} per byte per period${faucet}`
  );
}

function count(n: number | bigint, one: string, many = `${one}s`): string {
  return `${n} ${BigInt(n) === 1n ? one : many}`;
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** One line per event worth a line (none for pokes); undefined to print nothing. */
export function eventLine(e: HostEvent, periodSeconds: number): string | undefined {
  switch (e.type) {
    case 'started':
      return e.deals > 0
        ? `earning: resumed with ${count(e.deals, 'live deal')}, chain read up to block ${e.cursor}`
        : `earning: following the chain from block ${e.cursor + 1n}`;
    case 'deal': {
      const end = e.start + BigInt(e.duration) - 1n;
      return (
        `deal ${e.dealId} opened: shard ${e.root.slice(2, 14)}, periods ${e.start}..${end} ` +
        `(${formatSpan(e.duration, periodSeconds)}), price ${formatTokens(e.price)}`
      );
    }
    case 'poked':
      return undefined;
    case 'proof-submitted':
      return (
        `proof: deal ${e.dealId}, period ${e.period}, leaf ${e.leafIndex}: mined ${duration(e.latencyMs)} ` +
        `after the challenge${e.blocks != null ? ` (${count(e.blocks, 'block')})` : ''}, gas ${e.gasUsed}`
      );
    case 'proof-failed':
      return (
        `proof failed: deal ${e.dealId}, period ${e.period}, leaf ${e.leafIndex}: ${e.reason}: ${e.message}` +
        (e.willRetry ? ' (retrying)' : '')
      );
    case 'period':
      if (e.active === 0) return undefined;
      return (
        `period ${e.period}: ${count(e.active, 'active deal')}, ${e.challenged} challenged, ${e.proven} proven` +
        (e.failed > 0 ? `, ${e.failed} FAILED` : '')
      );
    case 'missed':
      return (
        `MISSED: deal ${e.dealId}, period ${e.period} (${e.cause}: ${e.message}); ` +
        `slashed ${formatTokens(e.slashed)}, ${count(e.misses, 'miss', 'misses')} on this deal`
      );
    case 'deal-ended':
      return `deal ${e.dealId} ended: ${e.reason}`;
    case 'shard-dropped':
      return `dropped shard ${e.root.slice(2, 14)} (${formatSize(e.bytes)}): no live deal pays for it since deal ${e.dealId} ended`;
    case 'claimed':
      return `claimed ${formatTokens(e.amount)} from ${e.dealIds.length === 1 ? 'deal' : 'deals'} ${e.dealIds.join(', ')}`;
    case 'withdrawn':
      return `withdrawn ${formatTokens(e.amount)} to the wallet`;
    case 'error':
      return `chain: ${e.where} failed: ${e.message} (will retry)`;
    default:
      return undefined;
  }
}

function trafficText(traffic: Map<string, { bytesServed: number; bytesReceived: number }>): string {
  let served = 0;
  let received = 0;
  let clients = 0;
  for (const t of traffic.values()) {
    served += t.bytesServed;
    received += t.bytesReceived;
    if (t.bytesServed > 0) clients++;
  }
  return `since start: served ${formatSize(served)} to ${count(clients, 'client')} (egress), received ${formatSize(received)}`;
}

async function paidStatusLine(paid: PaidHost, final = false): Promise<string> {
  const s = await paid.status();
  return (
    `${final ? 'totals' : 'status'}: ${count(s.liveDeals, 'live deal')}, ${count(s.proofs, 'proof')}, ` +
    count(s.misses, 'miss', 'misses') +
    (s.slashed > 0n ? ` (slashed ${formatTokens(s.slashed)})` : '') +
    `, earned ${formatTokens(s.earned)}, withdrawn ${formatTokens(s.withdrawn)}; ` +
    `${formatSize(s.usage.used)} of ${formatSize(s.usage.quota)} used, ${s.usage.shards} shards; ` +
    trafficText(s.traffic)
  );
}
