/**
 * `cairn delegate LINK --mediator M --budget AMOUNT`: the owner hands a file to a mediator so it
 * is repaired while the owner is away. Opens the link here (the key never leaves), grants the
 * mediator a mandate on chain (a budget and an expiry, with the market's allowance raised to
 * cover it), then sends the mediator only the file's public shape and placements, signed.
 * `--withdraw` takes a file back; `--revoke` ends the mandate (and withdraws LINK if given).
 */
import type { ChainSigner } from '@cairn/contracts';
import type { DelegationSigner, MediatorInfo } from '@cairn/drive';
import type { CairnNode } from '@cairn/peer';
import type { Address } from 'viem';
import { CliError, parseCommand, parseCount, UsageError } from './args.ts';
import {
  chainFromRelay,
  connectSigner,
  describeChain,
  formatTokens,
  keySource,
  loadChainFile,
  loadKeyFile,
  parseTokens,
} from './chain.ts';
import type { Io } from './io.ts';
import { checkRelayInputs, clientNode, relayInputs, resolveRelays, stopNode } from './network.ts';

const DEFAULT_DAYS = 30;

export const DELEGATE_HELP = `Usage: cairn delegate LINK --mediator MULTIADDR --budget AMOUNT [options]
       cairn delegate LINK --mediator MULTIADDR --withdraw
       cairn delegate [LINK] --mediator MULTIADDR|0xWALLET --revoke

Hands the file behind LINK to a mediator (cairn mediator) that repairs it while you are away:
when one of its deals fails on chain, the mediator rebuilds the shard and opens the replacement
deal in your name, paid from your tokens. The link is opened here; the mediator receives only
the file's public shape (shard roots and layout) and where its shards are, with their deal ids,
signed by your wallet: never the key. First your wallet grants the mediator a mandate on chain:
it may spend up to AMOUNT tokens on repair deals for --days days (the mandate covers every file
you delegate to that mediator; delegating again sets it anew), and the market's allowance is
raised to cover it (on top of what it already allows).

Options:
  --mediator M     the mediator's multiaddr (what cairn mediator prints as its address)
  --budget AMOUNT  tokens the mediator may spend on repairs, e.g. 5 or 2.5
  --days N         how long the mandate lasts default ${DEFAULT_DAYS}
  --id ID          the file's name at the mediator default: the link's record root (16 hex digits)
  --withdraw       take LINK back from the mediator (the mandate stays)
  --revoke         end the mandate (the allowance is lowered by what is left of it); with LINK,
                   withdraw it too. M may be the mediator's 0x wallet when no LINK is given
  --key-file PATH  your wallet (the deals' client): a file (mode 0600) holding one 0x private key
                   [CAIRN_KEY_FILE]
  --relay R        relay multiaddr (/ip4/.../ws/p2p/<id>) or its http(s) URL, repeatable
                   [CAIRN_RELAY, comma-separated] default http://127.0.0.1:5173
  --chain-config FILE  the chain (contracts config JSON) default: the relay's /cairn.json chain
  -h, --help       show this help
`;

const OPEN_TIMEOUT_MS = 30_000;

export async function delegate(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommand('delegate', argv, {
    help: { type: 'boolean', short: 'h' },
    mediator: { type: 'string' },
    budget: { type: 'string' },
    days: { type: 'string' },
    id: { type: 'string' },
    withdraw: { type: 'boolean' },
    revoke: { type: 'boolean' },
    relay: { type: 'string', multiple: true },
    'key-file': { type: 'string' },
    'chain-config': { type: 'string' },
  });
  if (values.help === true) {
    io.out(DELEGATE_HELP);
    return 0;
  }
  if (positionals.length > 1)
    throw new UsageError(`unexpected argument '${positionals[1]}'`, 'delegate');
  const link = positionals[0];
  const revoke = values.revoke === true;
  const withdraw = values.withdraw === true || (revoke && link != null);
  if (values.mediator == null) throw new UsageError('--mediator MULTIADDR is required', 'delegate');
  const mediatorWallet = /^0x[0-9a-fA-F]{40}$/.test(values.mediator)
    ? (values.mediator as Address)
    : undefined;
  if (mediatorWallet == null && !values.mediator.startsWith('/'))
    throw new UsageError(
      `--mediator takes the mediator's multiaddr (/ip4/.../p2p/<id>), or its 0x wallet with --revoke, got '${values.mediator}'`,
      'delegate',
    );
  if (mediatorWallet != null && (!revoke || link != null))
    throw new UsageError(
      "--mediator 0xWALLET is only for --revoke without LINK; delegating or withdrawing needs the mediator's multiaddr",
      'delegate',
    );
  if (link == null && !revoke) throw new UsageError('missing LINK', 'delegate');
  if (values.withdraw === true && revoke)
    throw new UsageError('--revoke already withdraws LINK: drop --withdraw', 'delegate');
  const granting = !withdraw && !revoke;
  if (granting && values.budget == null)
    throw new UsageError('--budget AMOUNT is required (tokens the mediator may spend)', 'delegate');
  if (!granting && (values.budget != null || values.days != null))
    throw new UsageError('--budget and --days are for delegating', 'delegate');
  const budget = values.budget != null ? parseTokens(values.budget, '--budget', 'delegate') : 0n;
  if (granting && budget === 0n)
    throw new UsageError(
      '--budget must be more than 0 (use --revoke to end a mandate)',
      'delegate',
    );
  const days = parseCount(values.days, '--days', 1, 'delegate') ?? DEFAULT_DAYS;
  if (values.id != null && (values.id === '' || new TextEncoder().encode(values.id).length > 128))
    throw new UsageError('--id must be 1 to 128 bytes', 'delegate');
  const relayArgs = checkRelayInputs(relayInputs(values.relay, io.env), 'delegate');
  const key = keySource(values['key-file'], io.env);
  if (key == null)
    throw new UsageError(
      '--key-file PATH is required: the wallet that owns the file (the deals\u2019 client)',
      'delegate',
    );

  // Checked before any network: a link that does not parse fails at once.
  const { decodeShareLink, toHex } = await import('@cairn/codec');
  const drive = await import('@cairn/drive');
  const id =
    values.id ??
    (link != null
      ? toHex(drive.decodeManifestRef(decodeShareLink(link).manifestRef).root).slice(0, 16)
      : undefined);

  const account = await loadKeyFile(key);
  const chainFile =
    values['chain-config'] != null ? await loadChainFile(values['chain-config']) : undefined;
  const relays = await resolveRelays(relayArgs, 'delegate', io.interrupted);
  const chain =
    chainFile ?? (await chainFromRelay(relays.chain?.value, relays.chain?.source ?? ''));
  if (chain == null)
    throw new UsageError(
      `a mandate lives on a chain, but ${relayArgs.join(', ')} publishes none: pass --chain-config FILE`,
      'delegate',
    );
  const signer = await connectSigner(chain.config, account);
  const owner = account as unknown as DelegationSigner;
  if (typeof owner.signMessage !== 'function')
    throw new CliError('this wallet cannot sign messages');

  let node: CairnNode | undefined;
  try {
    let info: MediatorInfo | undefined;
    if (mediatorWallet == null) {
      node = await clientNode();
      info = await drive.mediatorInfo(node, values.mediator, { signal: io.interrupted });
      if (info.chainId !== chain.config.chainId || info.market !== chain.config.market)
        throw new CliError(
          `the mediator works on chain ${info.chainId} (market ${info.market}), not on ${describeChain(chain.config)}`,
        );
      io.out(
        `mediator ${peerOf(values.mediator)}: wallet ${info.wallet}, holds ${info.files} ${info.files === 1 ? 'file' : 'files'}, on ${describeChain(chain.config)}\n`,
      );
    }
    const wallet = mediatorWallet ?? info!.wallet;
    const send = async (
      delegation: Parameters<typeof drive.signDelegation>[1],
    ): Promise<string> => {
      const request = await drive.signDelegation(owner, delegation);
      const reply = await drive.sendDelegation(node!, values.mediator!, request, {
        signal: io.interrupted,
      });
      return reply.result;
    };

    if (withdraw) {
      const result = await send({
        kind: 'withdraw',
        chainId: chain.config.chainId,
        client: signer.account,
        mediator: wallet,
        id: id!,
        issuedAt: Date.now(),
        placements: [],
      });
      io.out(
        result === 'withdrawn'
          ? `withdrew ${id} from the mediator\n`
          : `${id} was not delegated to this mediator (a later delegation of it is refused now)\n`,
      );
    }
    if (revoke) await revokeMandate(signer, wallet, io);
    if (!granting) return 0;

    // The file, opened here with the link's key: its public shape and its deals.
    const network = new drive.CairnNetwork({ node: node!, directories: relays.directories });
    const opened = await drive.openLink(network, link!, {
      signal: AbortSignal.any([AbortSignal.timeout(OPEN_TIMEOUT_MS), io.interrupted]),
    });
    const { shardSetOf } = await import('@cairn/codec');
    const placements = opened.placements.map(({ shard, host, dealId }) => ({
      shard,
      host,
      ...(dealId !== undefined ? { dealId } : {}),
    }));
    const dealIds = placements.flatMap((p) => (p.dealId !== undefined ? [p.dealId] : []));
    if (dealIds.length === 0)
      throw new CliError(
        'this file has no deals on chain (an unpaid put): a mediator repairs paid files only',
      );
    const { getDeal } = await import('@cairn/contracts');
    const first = await getDeal(signer, dealIds[0]!);
    if (first.client.toLowerCase() !== signer.account.toLowerCase())
      throw new CliError(
        `this file's deals are paid by ${first.client}, not by your wallet ${signer.account}: only the wallet that pays for a file can delegate it`,
      );

    await grantMandate(signer, wallet, budget, days, io);
    const result = await send({
      kind: 'delegate',
      chainId: chain.config.chainId,
      client: signer.account,
      mediator: wallet,
      id: id!,
      issuedAt: Date.now(),
      set: shardSetOf(opened.manifest),
      placements,
    });
    io.out(
      `delegated ${id} (${opened.manifest.k + opened.manifest.m} shards, k=${opened.manifest.k} m=${opened.manifest.m}, deals ${dealIds.join(', ')}) to ${peerOf(values.mediator)}: ${result}\n`,
    );
    return 0;
  } finally {
    await stopNode(node);
  }
}

/**
 * Grants the mandate with the drive's `grantMandate` (it replaces any earlier one and raises the
 * allowance by what the new budget adds, on top of the current allowance) and says what changed.
 */
async function grantMandate(
  signer: ChainSigner,
  mediator: Address,
  budget: bigint,
  days: number,
  io: Io,
): Promise<void> {
  const { grantMandate: grant } = await import('@cairn/drive');
  const { expiry, allowance, raisedBy, balance } = await grant(signer, mediator, budget, days);
  const allowanceText =
    raisedBy > 0n
      ? `the market's allowance raised by ${formatTokens(raisedBy)} to ${formatTokens(allowance + raisedBy)}`
      : `the market's allowance stays ${formatTokens(allowance)}`;
  io.out(
    `mandate: ${mediator} may spend up to ${formatTokens(budget)} of ${signer.account}'s tokens on repair deals ` +
      `until ${new Date(Number(expiry) * 1000).toISOString()} (${days} days); ${allowanceText}\n`,
  );
  if (balance < budget)
    io.err(
      `warning: ${signer.account} holds ${formatTokens(balance)}, less than the budget: repairs fail once it runs out\n`,
    );
}

async function revokeMandate(signer: ChainSigner, mediator: Address, io: Io): Promise<void> {
  const { approveMarket, getMandate, revokeMandate, tokenAllowance } =
    await import('@cairn/contracts');
  const [old, allowance] = await Promise.all([
    getMandate(signer, signer.account, mediator),
    tokenAllowance(signer, signer.account),
  ]);
  await revokeMandate(signer, mediator);
  let allowanceText = '';
  if (old.budget > 0n) {
    const lowered = allowance > old.budget ? allowance - old.budget : 0n;
    await approveMarket(signer, lowered);
    allowanceText = `; the market's allowance lowered to ${formatTokens(lowered)}`;
  }
  io.out(
    `mandate of ${mediator} revoked (${formatTokens(old.budget)} of it was left unspent)${allowanceText}\n`,
  );
}

function peerOf(addr: string): string {
  return /\/p2p\/([^/]+)$/.exec(addr)?.[1] ?? addr;
}
