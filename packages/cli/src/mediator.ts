/**
 * `cairn mediator`: repairs files for owners whose browsers are closed. Owners delegate files to
 * it (`cairn delegate`: the public ShardSet and placements, signed, never a key) and grant it a
 * mandate on chain; when a deal of a delegated file fails, it rebuilds the shard from the others
 * and opens the replacement deal in the owner's name, paid from the mandate's budget. Its wallet
 * pays only the gas.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ChainSigner } from '@cairn/contracts';
import type { DelegationBook, DelegationBookSnapshot, Mediator } from '@cairn/drive';
import type { CairnNode } from '@cairn/peer';
import { CliError, parseCommand, parseCount, UsageError } from './args.ts';
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
import { describeError } from './errors.ts';
import { lockDir } from './host.ts';
import { stopOnSignal, type Io } from './io.ts';
import { checkRelayInputs, relayInputs, resolveRelays, stopNode, withTimeout } from './network.ts';

const RESERVATION_TIMEOUT_MS = 30_000;
const DEFAULT_DURATION = 720;
const DEFAULT_EVERY_S = 300;
const STATUS_EVERY_MS = 60_000;
const STOP_TIMEOUT_MS = 25_000;
const PROBE_TIMEOUT_MS = 30_000;
export const BOOK_FILE = 'delegations.json';

export const MEDIATOR_HELP = `Usage: cairn mediator --dir DIR --key-file KEY [options]

Runs a mediator: owners delegate files to it (cairn delegate) so that it repairs them while their
browsers are closed. When a delegated file's deal fails on chain, it rebuilds the lost shard from
the others, stores it on another host and opens the replacement deal in the owner's name, paid
from the owner's tokens within the mandate the owner granted it on chain. It holds only what is
public (shard roots and layout, hosts, deal ids): nothing that decrypts a file. Its wallet pays
only the gas. Delegations are kept in DIR/${BOOK_FILE} (mode 0600) across restarts.
Ctrl-C (SIGINT) or SIGTERM stops it.

Options:
  --dir DIR           its state: identity.key (a stable peer id), ${BOOK_FILE}
  --key-file PATH     the wallet (pays gas): a file (mode 0600) holding one 0x private key
                      [CAIRN_KEY_FILE]
  --relay R           relay multiaddr (/ip4/.../ws/p2p/<id>) or its http(s) URL, repeatable
                      [CAIRN_RELAY, comma-separated] default http://127.0.0.1:5173
  --chain-config FILE the chain (contracts config JSON) default: the relay's /cairn.json chain
  --identity FILE     libp2p key file default DIR/identity.key (created with mode 0600)
  --duration N        periods each repair deal runs default ${DEFAULT_DURATION}
  --max-price P       refuse hosts asking more than P token base units per byte per period
  --every S           seconds between repair rounds default ${DEFAULT_EVERY_S}
  --status-every S    seconds between status lines (printed when something changed) default 60
  -h, --help          show this help
`;

export async function mediator(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('mediator', argv, {
    help: { type: 'boolean', short: 'h' },
    dir: { type: 'string' },
    relay: { type: 'string', multiple: true },
    identity: { type: 'string' },
    'key-file': { type: 'string' },
    'chain-config': { type: 'string' },
    duration: { type: 'string' },
    'max-price': { type: 'string' },
    every: { type: 'string' },
    'status-every': { type: 'string' },
  });
  if (values.help === true) {
    io.out(MEDIATOR_HELP);
    return 0;
  }
  if (positionals.length > 0)
    throw new UsageError(`unexpected argument '${positionals[0]}'`, 'mediator');
  if (values.dir == null) throw new UsageError('--dir DIR is required', 'mediator');
  const duration = parseCount(values.duration, '--duration', 1, 'mediator') ?? DEFAULT_DURATION;
  const maxPrice =
    values['max-price'] != null
      ? parseUnitsFlag(values['max-price'], '--max-price', 'mediator')
      : undefined;
  const everyMs = seconds(values.every, '--every') ?? DEFAULT_EVERY_S * 1000;
  const statusEveryMs = seconds(values['status-every'], '--status-every') ?? STATUS_EVERY_MS;
  const relayArgs = checkRelayInputs(relayInputs(values.relay, io.env), 'mediator');
  const key = keySource(values['key-file'], io.env);
  if (key == null)
    throw new UsageError(
      '--key-file PATH is required: the wallet that pays the gas of repairs (a mode 0600 file holding one 0x private key)',
      'mediator',
    );
  const dir = resolve(values.dir);
  const account = await loadKeyFile(key);
  const chainFile =
    values['chain-config'] != null ? await loadChainFile(values['chain-config']) : undefined;
  const relays = await resolveRelays(relayArgs, 'mediator', io.interrupted);
  const chain =
    chainFile ?? (await chainFromRelay(relays.chain?.value, relays.chain?.source ?? ''));
  if (chain == null)
    throw new UsageError(
      `a mediator works on a paid network, but ${relayArgs.join(', ')} publishes no chain: pass --chain-config FILE`,
      'mediator',
    );
  const signer = await connectSigner(chain.config, account);

  const { createCairnNode, isWebRTCAddress } = await import('@cairn/peer');
  const { CairnNetwork, DelegationBook, Mediator, handleDelegationProtocol } =
    await import('@cairn/drive');
  const { getDeal, getMandate } = await import('@cairn/contracts');
  const { loadHostIdentity } = await import('./identity.ts');

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const unlock = await lockDir(dir, 'mediator');
  let node: CairnNode | undefined;
  let protocol: { stop(): Promise<void> } | undefined;
  let service: Mediator | undefined;
  let book: DelegationBook | undefined;
  let status: ReturnType<typeof setInterval> | undefined;
  const shutdown = async (): Promise<void> => {
    clearInterval(status);
    // The round in flight is cut (its transaction, if sent, is mined or not: the chain decides);
    // the book is saved last.
    await withTimeout(
      service?.stop() ?? Promise.resolve(),
      STOP_TIMEOUT_MS,
      'stopping the mediator',
    ).catch((err) => io.log(describeError(err)));
    await protocol?.stop().catch(() => {});
    await book?.save().catch((err) => io.log(`saving ${BOOK_FILE} failed: ${describeError(err)}`));
    await stopNode(node);
    await unlock();
  };
  let repairs = 0;
  let spent = 0n;
  try {
    const identity = await loadHostIdentity(values.identity ?? join(dir, 'identity.key'));
    io.log(`peer id ${identity.privateKey.publicKey.toString()} (identity: ${identity.source})`);
    const eth = await signer.publicClient.getBalance({ address: signer.account });
    io.log(
      `wallet ${signer.account} on ${describeChain(chain.config)} (from ${chain.source}): ` +
        `${formatEth(eth)} ETH for gas${eth === 0n ? ' (NONE: repairs will fail until it is funded)' : ''}`,
    );
    const bookPath = join(dir, BOOK_FILE);
    book = await loadBook(bookPath, DelegationBook);
    const held = book;
    io.log(
      `delegations: ${held.size} held (${bookPath}); repair deals run ${formatPeriods(duration, chain.config.periodSeconds)}`,
    );
    node = await createCairnNode({
      privateKey: identity.privateKey,
      relays: relays.directories,
      allowPrivateAddresses: true,
    });
    let address;
    try {
      address = await node.waitForMultiaddr(isWebRTCAddress, {
        signal: AbortSignal.timeout(RESERVATION_TIMEOUT_MS),
      });
    } catch (err) {
      throw new CliError(
        `relay unreachable: no reservation on ${relays.directories.join(', ')} within ${RESERVATION_TIMEOUT_MS / 1000} s`,
        { cause: err },
      );
    }
    io.log(`address ${address.toString()}`);
    const network = new CairnNetwork({
      node,
      directories: relays.directories,
      probeTimeoutMs: PROBE_TIMEOUT_MS,
    });
    protocol = await handleDelegationProtocol(node, {
      reader: signer,
      wallet: signer.account,
      book: held,
      onEvent: (e) => {
        if (e.type === 'accepted') {
          const f = e.file;
          const deals = f.placements.filter((p) => p.dealId !== undefined).map((p) => p.dealId);
          io.log(
            f.kind === 'withdraw'
              ? `delegation withdrawn: ${f.id} of ${f.client} (${e.result === 'withdrawn' ? 'dropped' : 'was not held'})`
              : `delegation ${e.result}: ${f.id} of ${f.client}, k=${f.set!.k} m=${f.set!.m}, deals ${deals.join(', ')} (from ${e.peer})`,
          );
        } else {
          const whose = e.id != null ? ` for ${e.id} of ${e.client}` : '';
          io.log(`delegation refused (${e.error.code})${whose} from ${e.peer}: ${e.error.message}`);
        }
      },
    });
    service = new Mediator({
      network,
      signer,
      duration,
      everyMs,
      ...(maxPrice != null ? { maxPricePerBytePeriod: maxPrice } : {}),
      files: () => held.files(),
      onEvent: (e) => {
        if (e.type === 'error') {
          io.log(`repair of ${e.id} failed: ${describeError(e.error)} (will retry)`);
          return;
        }
        if (e.type === 'deals-opened') {
          // Kept before any byte is sent, so a crash now cannot lose track of these deals.
          io.log(
            `opened ${e.deals.map((p) => `deal ${p.dealId} (shard ${p.shard} on ${p.host})`).join(', ')} for ${e.id} of ${e.client}`,
          );
          held.save().catch((err) => io.log(`saving ${BOOK_FILE} failed: ${describeError(err)}`));
          return;
        }
        void reportRepair(signer, e, io, getDeal, getMandate).then(
          (cost) => {
            repairs += e.repaired.length;
            spent += cost;
          },
          (err) => io.log(`repair of ${e.id}: ${describeError(err)}`),
        );
        held.save().catch((err) => io.log(`saving ${BOOK_FILE} failed: ${describeError(err)}`));
      },
    });
    const statusLine = (): string => {
      const files = held.files();
      const owners = new Set(files.map((f) => f.client.toLowerCase())).size;
      return (
        `status: ${count(files.length, 'delegated file')} from ${count(owners, 'owner')}; ` +
        `${count(repairs, 'shard')} repaired since start, ${formatTokens(spent)} from mandates`
      );
    };
    let last = statusLine();
    io.log(last);
    service.start();
    io.log(`mediating: a repair round every ${everyMs / 1000} s; Ctrl-C to stop`);
    status = setInterval(() => {
      const line = statusLine();
      if (line !== last) io.log(line);
      last = line;
    }, statusEveryMs);
    status.unref();
  } catch (err) {
    await shutdown();
    throw err;
  }

  await stopOnSignal(io, shutdown, STOP_TIMEOUT_MS);
  io.log('stopped');
  return 0;
}

/** One line per repaired shard, with the deal's price (paid from the mandate); returns the sum. */
async function reportRepair(
  signer: ChainSigner,
  e: {
    id: string;
    client: `0x${string}`;
    repaired: { shard: number; host: string; dealId?: bigint }[];
  },
  io: Io,
  getDeal: typeof import('@cairn/contracts').getDeal,
  getMandate: typeof import('@cairn/contracts').getMandate,
): Promise<bigint> {
  let total = 0n;
  for (const p of e.repaired) {
    const price = p.dealId !== undefined ? (await getDeal(signer, p.dealId)).price : 0n;
    total += price;
    io.log(
      `repaired shard ${p.shard} of ${e.id} for ${e.client}: deal ${p.dealId} on ${p.host}, ${formatTokens(price)} from the mandate`,
    );
  }
  const mandate = await getMandate(signer, e.client, signer.account);
  io.log(
    `mandate of ${e.client}: ${formatTokens(mandate.budget)} left until ${new Date(Number(mandate.expiry) * 1000).toISOString()}`,
  );
  return total;
}

/** The book in `path` (absent: empty); every change is written to a temp file, then renamed. */
async function loadBook(path: string, Book: typeof DelegationBook): Promise<DelegationBook> {
  const persist = async (snapshot: DelegationBookSnapshot): Promise<void> => {
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(`${JSON.stringify(snapshot, null, 1)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  };
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Book({ persist });
    throw err;
  }
  try {
    return await Book.load(JSON.parse(text) as DelegationBookSnapshot, { persist });
  } catch (err) {
    throw new CliError(`${path} is damaged: ${describeError(err)}; move it aside to start afresh`, {
      cause: err,
    });
  }
}

function seconds(text: string | undefined, what: string): number | undefined {
  if (text == null) return undefined;
  const s = Number(text);
  if (!Number.isFinite(s) || s < 1)
    throw new UsageError(`${what} must be a number of seconds >= 1, got '${text}'`, 'mediator');
  return s * 1000;
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function formatEth(wei: bigint): string {
  const whole = wei / 10n ** 18n;
  const frac = ((wei % 10n ** 18n) * 10000n) / 10n ** 18n;
  return frac === 0n
    ? `${whole}`
    : `${whole}.${frac.toString().padStart(4, '0').replace(/0+$/, '')}`;
}
