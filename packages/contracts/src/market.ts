// Actions on the token, the faucet and the storage market: one function per contract call, over
// viem (`readContract` for reads; `write` = simulate + `writeContract` + receipt for
// transactions), typed by the generated `as const` ABIs. Reads take a ChainReader, writes a
// ChainSigner (the sending account).
import {
  toHex,
  type Address,
  type ContractEventName,
  type GetContractEventsReturnType,
  type Hex,
  type WatchContractEventOnLogsParameter,
} from 'viem';
import {
  eventsOf,
  write,
  type Bytes,
  type CairnReceipt,
  type ChainReader,
  type ChainSigner,
} from './chain.ts';
import { cairnTokenAbi, faucetAbi, storageMarketAbi } from './generated/abis.ts';
import {
  NO_PERMIT,
  type DealRequest,
  type MandateMessage,
  type PermitArg,
  type SignedMandate,
} from './typed-data.ts';

const hex = (b: Bytes): Hex => (typeof b === 'string' ? b : toHex(b));

export interface Deal {
  client: Address;
  start: bigint;
  duration: number;
  host: Address;
  settled: bigint;
  misses: number;
  status: number;
  root: Hex;
  size: bigint;
  leafCount: bigint;
  leafSize: number;
  successes: number;
  lastProof: bigint;
  price: bigint;
  collateral: bigint;
  escrow: bigint;
  earned: bigint;
}

export interface HostRecord {
  stake: bigint;
  locked: bigint;
  pricePerBytePeriod: bigint;
  activeDeals: bigint;
  registered: boolean;
  peerId: Hex;
}

/** A client's mandate to one mediator (`getMandate`). */
export interface Mandate {
  /** what the mediator may still spend on repair deals (0: none) */
  budget: bigint;
  /** unix seconds, inclusive (0: no mandate) */
  expiry: bigint;
  /** the nonce the pair's next signed mandate must carry */
  nonce: bigint;
}

export interface Challenge {
  seeded: boolean;
  challenged: boolean;
  leafIndex: bigint;
  probabilityBps: number;
}

/** Deal status values of `Deal.status`. */
export const DealStatus = {
  None: 0,
  Active: 1,
  Completed: 2,
  Ended: 3,
  Failed: 4,
  Repaired: 5,
} as const;

/** `DealEnded.reason` values. */
export const EndReason = { Completed: 0, ClientEnded: 1, Missed: 2, HostAbandoned: 3 } as const;

const market = (s: ChainSigner) => ({ address: s.config.market, abi: storageMarketAbi }) as const;

// ------------------------------------------------------------------ token and faucet

export function tokenBalance(reader: ChainReader, account: Address): Promise<bigint> {
  return reader.publicClient.readContract({
    address: reader.config.token,
    abi: cairnTokenAbi,
    functionName: 'balanceOf',
    args: [account],
  });
}

export function tokenAllowance(reader: ChainReader, owner: Address): Promise<bigint> {
  return reader.publicClient.readContract({
    address: reader.config.token,
    abi: cairnTokenAbi,
    functionName: 'allowance',
    args: [owner, reader.config.market],
  });
}

export function transferToken(
  signer: ChainSigner,
  to: Address,
  amount: bigint,
): Promise<CairnReceipt> {
  return write(
    signer,
    {
      address: signer.config.token,
      abi: cairnTokenAbi,
      functionName: 'transfer',
      args: [to, amount],
    },
    { tokensNeeded: amount },
  );
}

/** Lets the market pull up to `amount` (an alternative to permits, e.g. for many deals). */
export function approveMarket(signer: ChainSigner, amount: bigint): Promise<CairnReceipt> {
  return write(signer, {
    address: signer.config.token,
    abi: cairnTokenAbi,
    functionName: 'approve',
    args: [signer.config.market, amount],
  });
}

/** Local chains: the faucet sends test tokens to `to` (default: the signer). */
export function drip(signer: ChainSigner, to: Address = signer.account): Promise<CairnReceipt> {
  const faucet = signer.config.faucet;
  if (!faucet) throw new TypeError('this deployment has no faucet (only local chains have one)');
  return write(signer, { address: faucet, abi: faucetAbi, functionName: 'drip', args: [to] });
}

// ------------------------------------------------------------------ hosts

export function register(
  signer: ChainSigner,
  args: { peerId: Bytes; pricePerBytePeriod: bigint; stake: bigint; permit?: PermitArg },
): Promise<CairnReceipt> {
  return write(
    signer,
    {
      ...market(signer),
      functionName: 'register',
      args: [hex(args.peerId), args.pricePerBytePeriod, args.stake, args.permit ?? NO_PERMIT],
    },
    { tokensNeeded: args.stake },
  );
}

export function updateHost(
  signer: ChainSigner,
  args: { peerId: Bytes; pricePerBytePeriod: bigint },
): Promise<CairnReceipt> {
  return write(signer, {
    ...market(signer),
    functionName: 'updateHost',
    args: [hex(args.peerId), args.pricePerBytePeriod],
  });
}

export function addCollateral(
  signer: ChainSigner,
  amount: bigint,
  permit: PermitArg = NO_PERMIT,
): Promise<CairnReceipt> {
  return write(
    signer,
    { ...market(signer), functionName: 'addCollateral', args: [amount, permit] },
    { tokensNeeded: amount },
  );
}

export function withdrawCollateral(signer: ChainSigner, amount: bigint): Promise<CairnReceipt> {
  return write(signer, { ...market(signer), functionName: 'withdrawCollateral', args: [amount] });
}

export function leave(signer: ChainSigner): Promise<CairnReceipt> {
  return write(signer, { ...market(signer), functionName: 'leave', args: [] });
}

export function cancelQuote(signer: ChainSigner, nonce: bigint): Promise<CairnReceipt> {
  return write(signer, { ...market(signer), functionName: 'cancelQuote', args: [nonce] });
}

export async function getHost(reader: ChainReader, host: Address): Promise<HostRecord> {
  return reader.publicClient.readContract({
    address: reader.config.market,
    abi: storageMarketAbi,
    functionName: 'getHost',
    args: [host],
  });
}

export function nonceUsed(reader: ChainReader, host: Address, nonce: bigint): Promise<boolean> {
  return reader.publicClient.readContract({
    address: reader.config.market,
    abi: storageMarketAbi,
    functionName: 'nonceUsed',
    args: [host, nonce],
  });
}

// ------------------------------------------------------------------ deals

/**
 * Opens one deal per request in one transaction; the sum of prices is pulled through `permit`
 * (or the allowance when there is none) and must be in the signer's balance.
 */
export function openDeals(
  signer: ChainSigner,
  requests: readonly DealRequest[],
  permit: PermitArg = NO_PERMIT,
): Promise<CairnReceipt> {
  return write(
    signer,
    { ...market(signer), functionName: 'openDeals', args: [requestArgs(requests), permit] },
    { tokensNeeded: totalPrice(requests) },
  );
}

const totalPrice = (requests: readonly DealRequest[]) =>
  requests.reduce((sum, r) => sum + r.price, 0n);

const requestArgs = (requests: readonly DealRequest[]) =>
  requests.map((r) => ({
    host: r.host,
    root: r.root,
    size: r.size,
    leafCount: r.leafCount,
    leafSize: r.leafSize,
    duration: r.duration,
    price: r.price,
    expiry: r.expiry,
    nonce: r.nonce,
    repairOf: r.repairOf,
    signature: r.signature,
  }));

/** The ids of the deals an `openDeals` receipt opened, in request order. */
export function openedDealIds(receipt: CairnReceipt): bigint[] {
  return eventsOf(receipt, 'DealOpened').map((e) => e.args.dealId);
}

/** The market's EIP-712 digest of a quote, computed by the contract (see also `hashQuote`). */
export function quoteDigest(
  reader: ChainReader,
  client: Address,
  request: DealRequest,
): Promise<Hex> {
  return reader.publicClient.readContract({
    address: reader.config.market,
    abi: storageMarketAbi,
    functionName: 'quoteDigest',
    args: [client, request],
  });
}

export function getDeal(reader: ChainReader, dealId: bigint): Promise<Deal> {
  return reader.publicClient.readContract({
    address: reader.config.market,
    abi: storageMarketAbi,
    functionName: 'getDeal',
    args: [dealId],
  });
}

export function endDeal(signer: ChainSigner, dealId: bigint): Promise<CairnReceipt> {
  return write(signer, { ...market(signer), functionName: 'endDeal', args: [dealId] });
}

export function abandonDeal(signer: ChainSigner, dealId: bigint): Promise<CairnReceipt> {
  return write(signer, { ...market(signer), functionName: 'abandonDeal', args: [dealId] });
}

export function releaseBounty(signer: ChainSigner, failedDealId: bigint): Promise<CairnReceipt> {
  return write(signer, { ...market(signer), functionName: 'releaseBounty', args: [failedDealId] });
}

export function repairBounty(reader: ChainReader, dealId: bigint): Promise<bigint> {
  return reader.publicClient.readContract({
    address: reader.config.market,
    abi: storageMarketAbi,
    functionName: 'repairBounty',
    args: [dealId],
  });
}

// ------------------------------------------------------------------ mandates (delegated repair)

/**
 * The client (the signer) lets `mediator` spend up to `budget` of its tokens on repair deals
 * until `expiry` (unix seconds), replacing any mandate it had; `budget: 0n` revokes. The market
 * pulls the tokens, so the client also approves it (`approveMarket`) or signs a permit the
 * mediator passes to `openRepairDeals`.
 */
export function setMandate(
  signer: ChainSigner,
  mediator: Address,
  args: { budget: bigint; expiry: bigint },
): Promise<CairnReceipt> {
  return write(signer, {
    ...market(signer),
    functionName: 'setMandate',
    args: [mediator, args.budget, args.expiry],
  });
}

/** Revokes `mediator`'s mandate (`setMandate` with budget 0). */
export function revokeMandate(signer: ChainSigner, mediator: Address): Promise<CairnReceipt> {
  return setMandate(signer, mediator, { budget: 0n, expiry: 0n });
}

/** Submits a mandate the client signed (`signMandate`); the signer (any account) pays the gas. */
export function setMandateBySig(signer: ChainSigner, m: SignedMandate): Promise<CairnReceipt> {
  return write(signer, {
    ...market(signer),
    functionName: 'setMandateBySig',
    args: [m.client, m.mediator, m.budget, m.expiry, m.signature],
  });
}

export function getMandate(
  reader: ChainReader,
  client: Address,
  mediator: Address,
): Promise<Mandate> {
  return reader.publicClient.readContract({
    address: reader.config.market,
    abi: storageMarketAbi,
    functionName: 'getMandate',
    args: [client, mediator],
  });
}

/** The market's EIP-712 digest of a mandate, computed by the contract (see also `hashMandate`). */
export function mandateDigest(reader: ChainReader, m: MandateMessage): Promise<Hex> {
  return reader.publicClient.readContract({
    address: reader.config.market,
    abi: storageMarketAbi,
    functionName: 'mandateDigest',
    args: [m.client, m.mediator, m.budget, m.expiry, m.nonce],
  });
}

/**
 * The mediator (the signer) opens repair deals for `client` under its mandate: every request
 * repairs a failed deal of the client's (`repairOf`) with a quote signed for the client. The deals
 * are the client's; the sum of prices comes out of the client's tokens (through `permit`, signed
 * by the client, or its allowance) and off the budget. The client's balance is checked first.
 */
export function openRepairDeals(
  signer: ChainSigner,
  client: Address,
  requests: readonly DealRequest[],
  permit: PermitArg = NO_PERMIT,
): Promise<CairnReceipt> {
  return write(
    signer,
    {
      ...market(signer),
      functionName: 'openRepairDeals',
      args: [client, requestArgs(requests), permit],
    },
    { tokensNeeded: totalPrice(requests), tokensFrom: client },
  );
}

// ------------------------------------------------------------------ periods, challenges, proofs

export function currentPeriod(reader: ChainReader): Promise<bigint> {
  return reader.publicClient.readContract({
    address: reader.config.market,
    abi: storageMarketAbi,
    functionName: 'currentPeriod',
  });
}

/** Unix time (seconds) at which `period` starts. */
export function periodStart(reader: ChainReader, period: bigint): Promise<bigint> {
  return reader.publicClient.readContract({
    address: reader.config.market,
    abi: storageMarketAbi,
    functionName: 'periodStart',
    args: [period],
  });
}

/** Records the current period's seed if nobody has yet (hosts call it at period start). */
export function poke(signer: ChainSigner): Promise<CairnReceipt> {
  return write(signer, { ...market(signer), functionName: 'poke', args: [] });
}

export async function challengeFor(
  reader: ChainReader,
  dealId: bigint,
  period: bigint,
): Promise<Challenge> {
  const [seeded, challenged, leafIndex, probabilityBps] = await reader.publicClient.readContract({
    address: reader.config.market,
    abi: storageMarketAbi,
    functionName: 'challengeFor',
    args: [dealId, period],
  });
  return { seeded, challenged, leafIndex, probabilityBps };
}

/**
 * The host answers this period's challenge with the leaf (exactly `leafSize` bytes, zero-padded)
 * and its proof in the codec's wire form (`encodeProof`: siblings bottom-up, 32 bytes each).
 */
export function submitProof(
  signer: ChainSigner,
  dealId: bigint,
  leaf: Bytes,
  proof: Bytes,
): Promise<CairnReceipt> {
  return write(signer, {
    ...market(signer),
    functionName: 'submitProof',
    args: [dealId, hex(leaf), hex(proof)],
  });
}

/** Checks a proof in the codec's format against any root (a view call; no transaction). */
export function verifyShardProof(
  reader: ChainReader,
  args: {
    root: Hex;
    leafCount: bigint;
    leafSize: number;
    index: bigint;
    leaf: Bytes;
    proof: Bytes;
  },
): Promise<boolean> {
  return reader.publicClient.readContract({
    address: reader.config.market,
    abi: storageMarketAbi,
    functionName: 'verifyShardProof',
    args: [args.root, args.leafCount, args.leafSize, args.index, hex(args.leaf), hex(args.proof)],
  });
}

// ------------------------------------------------------------------ settlement and money

export function settle(
  signer: ChainSigner,
  dealId: bigint,
  maxPeriods: bigint,
): Promise<CairnReceipt> {
  return write(signer, { ...market(signer), functionName: 'settle', args: [dealId, maxPeriods] });
}

export function reportMiss(
  signer: ChainSigner,
  dealId: bigint,
  period: bigint,
): Promise<CairnReceipt> {
  return write(signer, { ...market(signer), functionName: 'reportMiss', args: [dealId, period] });
}

/** The host collects what its deals earned (settling them first). */
export function claim(signer: ChainSigner, dealIds: readonly bigint[]): Promise<CairnReceipt> {
  return write(signer, { ...market(signer), functionName: 'claim', args: [dealIds] });
}

/** Withdraws refunds, compensation and rewards (`marketBalance`). */
export function withdraw(signer: ChainSigner): Promise<CairnReceipt> {
  return write(signer, { ...market(signer), functionName: 'withdraw', args: [] });
}

/** What the market owes `account` outside deals (refunds, compensation, rewards). */
export function marketBalance(reader: ChainReader, account: Address): Promise<bigint> {
  return reader.publicClient.readContract({
    address: reader.config.market,
    abi: storageMarketAbi,
    functionName: 'balanceOf',
    args: [account],
  });
}

export function marketGenesis(reader: ChainReader): Promise<bigint> {
  return reader.publicClient.readContract({
    address: reader.config.market,
    abi: storageMarketAbi,
    functionName: 'genesis',
  });
}

// ------------------------------------------------------------------ events

export type MarketEventName = ContractEventName<typeof storageMarketAbi>;

/** The market's past events (default: since deployment), decoded (`getContractEvents`). */
export function marketEvents<const N extends MarketEventName | undefined = undefined>(
  reader: ChainReader,
  options: { eventName?: N; fromBlock?: bigint; toBlock?: bigint } = {},
): Promise<GetContractEventsReturnType<typeof storageMarketAbi, N, true>> {
  return reader.publicClient.getContractEvents({
    address: reader.config.market,
    abi: storageMarketAbi,
    eventName: options.eventName,
    fromBlock: options.fromBlock ?? BigInt(reader.config.deployBlock),
    toBlock: options.toBlock,
    strict: true,
  }) as Promise<GetContractEventsReturnType<typeof storageMarketAbi, N, true>>;
}

/** Calls `onLogs` with new market events as blocks arrive (`watchContractEvent`); returns unwatch. */
export function watchMarketEvents<const N extends MarketEventName = MarketEventName>(
  reader: ChainReader,
  options: {
    eventName?: N;
    onLogs: (logs: WatchContractEventOnLogsParameter<typeof storageMarketAbi, N, true>) => void;
    onError?: (error: Error) => void;
  },
): () => void {
  return reader.publicClient.watchContractEvent({
    address: reader.config.market,
    abi: storageMarketAbi,
    eventName: options.eventName,
    strict: true,
    onLogs: options.onLogs as never,
    onError: options.onError,
  });
}
