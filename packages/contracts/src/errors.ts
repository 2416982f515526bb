// Errors a user can act on, each its own class: a wallet on the wrong chain, too little balance,
// a rejected signature, a reverted transaction with its decoded reason. `toCairnError` turns
// viem's errors into these.
import {
  BaseError,
  ContractFunctionRevertedError,
  InsufficientFundsError,
  UserRejectedRequestError,
  formatUnits,
  type Address,
  type Hex,
} from 'viem';

/** Readable explanations of the contracts' custom errors, by name. */
const REASONS: Record<string, string> = {
  InvalidParams: 'the market parameters are invalid',
  AlreadyRegistered: 'this account is already registered as a host',
  NotRegistered: 'this account is not registered as a host',
  InsufficientStake: "the host's free stake does not cover the collateral",
  HasActiveDeals: 'the host still has live deals',
  InvalidShard: 'the shard description is inconsistent (size, leaf count, leaf size or duration)',
  QuoteExpired: "the host's quote has expired",
  PriceBelowRate: "the price is below the host's rate",
  NonceUsed: 'this quote was already used or cancelled',
  BadSignature: 'the quote is not signed by the host for these terms and this client',
  NotRepairable: 'that deal cannot be repaired',
  DealNotActive: 'the deal is not active',
  NotClient: "only the deal's client may do this",
  NotHost: "only the deal's host may do this",
  OutsideDeal: 'the period is outside the deal',
  AlreadyProven: 'this period is already proven',
  NotChallenged: 'the deal is not challenged in this period',
  InvalidProof: 'the proof does not match the shard',
  PeriodNotClosed: 'the period has not ended yet',
  NoMiss: 'the host did not miss that period',
  NothingToWithdraw: 'there is nothing to withdraw',
  NoMandate: 'the client has given this mediator no repair mandate (or revoked it)',
  MandateExpired: 'the repair mandate has expired (or would expire before it starts)',
  OverBudget: "the repair deals cost more than what is left of the mandate's budget",
  NotARepair: 'a mediator may only open repair deals (repairOf of a failed deal)',
  BadMandateSignature: 'the mandate is not signed by the client for these terms and nonce',
  NotLocalChain: 'the faucet only works on a local chain',
  TooSoon: 'the faucet was used too recently',
  ERC20InsufficientBalance: 'the token balance is too low',
  ERC20InsufficientAllowance: 'the token allowance is too low',
  ERC2612ExpiredSignature: 'the permit has expired',
  ERC2612InvalidSigner: 'the permit is not signed by the owner',
};

/** The wallet (or node) is on another chain than the configuration names. */
export class WrongChainError extends Error {
  override readonly name = 'WrongChainError';
  readonly expected: number;
  readonly actual: number;
  constructor(expected: number, actual: number) {
    super(
      `the wallet is on chain ${actual}, but Cairn's contracts are on chain ${expected}: switch the wallet to chain ${expected}`,
    );
    this.expected = expected;
    this.actual = actual;
  }
}

/** An account holds less than an action needs (checked before sending). */
export class InsufficientBalanceError extends Error {
  override readonly name = 'InsufficientBalanceError';
  readonly account: Address;
  /** 'CAIRN' (the market's token) or 'ETH' (gas) */
  readonly asset: string;
  /** undefined for gas, whose exact cost the node did not say */
  readonly needed: bigint | undefined;
  readonly available: bigint;
  constructor(account: Address, asset: string, needed: bigint | undefined, available: bigint) {
    super(
      `${account} has ${formatUnits(available, 18)} ${asset}, but this needs ` +
        (needed === undefined ? `more to pay for gas` : `${formatUnits(needed, 18)} ${asset}`),
    );
    this.account = account;
    this.asset = asset;
    this.needed = needed;
    this.available = available;
  }
}

/** The user declined a signature or transaction in the wallet (EIP-1193 code 4001). */
export class SignatureRejectedError extends Error {
  override readonly name = 'SignatureRejectedError';
  readonly action: string;
  constructor(action: string, options?: { cause?: unknown }) {
    super(`the signature for ${action} was rejected in the wallet`, options);
    this.action = action;
  }
}

/** A call or transaction reverted; `reason` is the contract's custom error decoded by the ABI. */
export class ContractRevertError extends Error {
  override readonly name = 'ContractRevertError';
  readonly functionName: string;
  /** decoded custom error, or undefined when the revert carried no known reason */
  readonly reason: { name: string; args: readonly unknown[] } | undefined;
  readonly data: Hex | undefined;
  constructor(
    functionName: string,
    reason: { name: string; args: readonly unknown[] } | undefined,
    data?: Hex,
    options?: { cause?: unknown },
  ) {
    const text = reason
      ? `${reason.name}(${reason.args.map(String).join(', ')})` +
        (REASONS[reason.name] ? `: ${REASONS[reason.name]}` : '')
      : (data ?? 'no reason given');
    super(`${functionName} reverted: ${text}`, options);
    this.functionName = functionName;
    this.reason = reason;
    this.data = data;
  }
}

function isRejection(err: unknown): boolean {
  if (err instanceof BaseError)
    return !!err.walk((e) => e instanceof UserRejectedRequestError || hasCode(e, 4001));
  return hasCode(err, 4001);
}

function hasCode(e: unknown, code: number): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}

/** True when the node refused a transaction because the sender cannot pay for its gas. */
export function isInsufficientFunds(err: unknown): boolean {
  return err instanceof BaseError && !!err.walk((e) => e instanceof InsufficientFundsError);
}

/**
 * Maps an error from viem or a wallet to one of the classes above when it is one of those
 * cases; otherwise returns it unchanged.
 */
export function toCairnError(err: unknown, action: string): unknown {
  if (
    err instanceof WrongChainError ||
    err instanceof InsufficientBalanceError ||
    err instanceof SignatureRejectedError ||
    err instanceof ContractRevertError
  )
    return err;
  if (isRejection(err)) return new SignatureRejectedError(action, { cause: err });
  if (!(err instanceof BaseError)) return err;
  const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
  if (reverted instanceof ContractFunctionRevertedError) {
    const reason = reverted.data
      ? { name: reverted.data.errorName, args: reverted.data.args ?? [] }
      : reverted.reason
        ? { name: 'Error', args: [reverted.reason] }
        : undefined;
    return new ContractRevertError(action, reason, reverted.raw, { cause: err });
  }
  return err;
}
