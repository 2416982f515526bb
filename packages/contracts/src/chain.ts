// viem clients for a deployment: a reader (public client over the config's RPC URL) and a signer
// (wallet client for one account: a local account derived from a recovery phrase or key, an
// injected EIP-1193 wallet, or an account the node holds). `write` is the one path every
// transaction takes: chain check, balance check, simulation (decoded revert reasons), send,
// receipt, decoded events.
import {
  createPublicClient,
  createWalletClient,
  decodeErrorResult,
  http,
  parseEventLogs,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type ContractEventName,
  type ContractFunctionArgs,
  type ContractFunctionName,
  type Hex,
  type ParseEventLogsReturnType,
  type PublicClient,
  type TransactionReceipt,
  type Transport,
  type WalletClient,
} from 'viem';
import { cairnChain, type CairnChainConfig } from './config.ts';
import {
  ContractRevertError,
  InsufficientBalanceError,
  WrongChainError,
  isInsufficientFunds,
  toCairnError,
} from './errors.ts';
import { cairnTokenAbi, faucetAbi, storageMarketAbi } from './generated/abis.ts';

/** Every event and error of the three contracts, for decoding logs and reverts. */
export const cairnAbi = [...storageMarketAbi, ...cairnTokenAbi, ...faucetAbi] as const;

export type CairnEvent = ReturnType<typeof parseCairnLogs>[number];

/** Decodes the logs of any of the three contracts (others are skipped). */
export function parseCairnLogs(logs: TransactionReceipt['logs']) {
  return parseEventLogs({ abi: cairnAbi, logs, strict: true });
}
export type CairnEventName = ContractEventName<typeof cairnAbi>;

/** A mined, successful transaction and its decoded events. */
export type CairnReceipt = TransactionReceipt & { events: CairnEvent[] };

/** Read access to a deployment. */
export interface ChainReader {
  readonly config: CairnChainConfig;
  readonly publicClient: PublicClient<Transport, Chain>;
}

/** A reader that can also sign and send as `account`. */
export interface ChainSigner extends ChainReader {
  readonly walletClient: WalletClient<Transport, Chain, Account>;
  readonly account: Address;
}

export interface ClientOptions {
  /** ms between polls for receipts and events @default 1000 (use ~20 on a local chain in tests) */
  pollingInterval?: number;
  /** transport for reads @default http(config.rpcUrl) */
  transport?: Transport;
}

export function createChainReader(
  config: CairnChainConfig,
  options: ClientOptions = {},
): ChainReader {
  const publicClient = createPublicClient({
    chain: cairnChain(config),
    transport: options.transport ?? http(config.rpcUrl, { retryCount: 0 }),
    pollingInterval: options.pollingInterval ?? 1000,
    cacheTime: 0,
  });
  return { config, publicClient };
}

export interface SignerOptions extends ClientOptions {
  /**
   * Transport of the wallet: `custom(provider)` for an injected EIP-1193 wallet. Default: the
   * config's RPC URL (a local account signs in this process; an address is an account the node
   * itself holds, e.g. anvil's dev accounts).
   */
  walletTransport?: Transport;
  /** reuse a reader's public client */
  reader?: ChainReader;
}

/** A signer for `account`: a viem local account (signs here) or the address of a wallet account. */
export function createChainSigner(
  config: CairnChainConfig,
  account: Account | Address,
  options: SignerOptions = {},
): ChainSigner {
  const reader = options.reader ?? createChainReader(config, options);
  const walletClient = createWalletClient({
    account,
    chain: reader.publicClient.chain,
    transport: options.walletTransport ?? http(config.rpcUrl, { retryCount: 0 }),
    pollingInterval: options.pollingInterval ?? 1000,
    cacheTime: 0,
  });
  return { ...reader, walletClient, account: walletClient.account.address };
}

/** Throws WrongChainError unless the signer's wallet is on the config's chain. */
/**
 * Now by the chain's clock, in seconds: the later of the latest block's timestamp and this
 * machine's clock. Deadlines the market checks (quote expiries, permit deadlines) are dated by it,
 * so they hold on a chain moved ahead by time travel and on an idle chain whose latest block is
 * old (the next block is stamped with the current time).
 */
export async function chainNow(reader: ChainReader): Promise<bigint> {
  const block = await reader.publicClient.getBlock();
  const local = BigInt(Math.floor(Date.now() / 1000));
  return block.timestamp > local ? block.timestamp : local;
}

export async function assertWalletChain(signer: ChainSigner): Promise<void> {
  const actual = await signer.walletClient.getChainId();
  if (actual !== signer.config.chainId) throw new WrongChainError(signer.config.chainId, actual);
}

/** Throws InsufficientBalanceError unless `account` holds at least `needed` tokens. */
export async function assertTokenBalance(
  reader: ChainReader,
  account: Address,
  needed: bigint,
): Promise<void> {
  if (needed <= 0n) return;
  const available = await reader.publicClient.readContract({
    address: reader.config.token,
    abi: cairnTokenAbi,
    functionName: 'balanceOf',
    args: [account],
  });
  if (available < needed) throw new InsufficientBalanceError(account, 'CAIRN', needed, available);
}

type Writable = 'nonpayable' | 'payable';
type LooseCall = { address: Address; abi: Abi; functionName: string; args: readonly unknown[] };

export interface WriteOptions {
  /** tokens the account must hold for this action (checked before anything is signed) */
  tokensNeeded?: bigint;
  /** whose tokens `tokensNeeded` are (default: the signer; a mediator spends its client's) */
  tokensFrom?: Address;
}

/**
 * Sends one contract call from the signer: checks the wallet's chain and the token balance the
 * action needs, simulates (so a revert surfaces with its decoded reason and nothing is sent),
 * sends, waits for the receipt and decodes its events. Errors are WrongChainError,
 * InsufficientBalanceError, SignatureRejectedError or ContractRevertError where they apply.
 */
export async function write<
  const abi extends Abi,
  functionName extends ContractFunctionName<abi, Writable>,
>(
  signer: ChainSigner,
  call: {
    address: Address;
    abi: abi;
    functionName: functionName;
    args: ContractFunctionArgs<abi, Writable, functionName>;
  },
  options: WriteOptions = {},
): Promise<CairnReceipt> {
  const action = call.functionName;
  try {
    await assertWalletChain(signer);
    if (options.tokensNeeded)
      await assertTokenBalance(signer, options.tokensFrom ?? signer.account, options.tokensNeeded);
    const { request } = await signer.publicClient.simulateContract({
      ...(call as LooseCall),
      account: signer.walletClient.account,
    });
    const hash = await signer.walletClient.writeContract(request as never);
    const receipt = await signer.publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== 'success') throw await replayRevert(signer, call as LooseCall, receipt);
    return { ...receipt, events: parseCairnLogs(receipt.logs) };
  } catch (err) {
    if (isInsufficientFunds(err)) {
      const eth = await signer.publicClient.getBalance({ address: signer.account });
      throw new InsufficientBalanceError(signer.account, 'ETH', undefined, eth);
    }
    throw decodeRevert(toCairnError(err, action));
  }
}

/** A mined transaction reverted (state changed between simulation and mining): ask for the reason. */
async function replayRevert(
  signer: ChainSigner,
  call: LooseCall,
  receipt: TransactionReceipt,
): Promise<unknown> {
  try {
    await signer.publicClient.simulateContract({
      ...call,
      account: signer.walletClient.account,
      blockNumber: receipt.blockNumber - 1n,
    });
  } catch (err) {
    return toCairnError(err, call.functionName);
  }
  return new ContractRevertError(call.functionName, undefined);
}

/** A revert whose error the called contract's ABI did not know (e.g. the token's, raised inside a market call). */
function decodeRevert(err: unknown): unknown {
  if (!(err instanceof ContractRevertError) || err.reason || !err.data || err.data.length < 10)
    return err;
  try {
    const d = decodeErrorResult({ abi: cairnAbi, data: err.data });
    return new ContractRevertError(
      err.functionName,
      { name: d.errorName, args: d.args ?? [] },
      err.data,
      {
        cause: err.cause,
      },
    );
  } catch {
    return err;
  }
}

/** The events named `name` in a receipt, typed. */
export function eventsOf<const N extends CairnEventName>(
  receipt: { events: readonly CairnEvent[] },
  name: N,
): ParseEventLogsReturnType<typeof cairnAbi, N, true>[number][] {
  return receipt.events.filter((e) => e.eventName === name) as ParseEventLogsReturnType<
    typeof cairnAbi,
    N,
    true
  >[number][];
}

export type Bytes = Hex | Uint8Array;
