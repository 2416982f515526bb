// Minimal JSON-RPC client over fetch (isomorphic): reads, transactions from accounts the node
// holds (anvil's unlocked dev accounts), EIP-712 signing, receipts with decoded events, and the
// dev-chain time controls. Stands in for viem until viem is installed.
import {
  decodeErrorData,
  decodeEventLog,
  decodeParams,
  encodeFunctionData,
  encodeParams,
  findItem,
  type AbiItem,
  type DecodedEvent,
  type Hex,
  type Log,
} from './abi.ts';
import { ContractRevertError, RpcError } from './errors.ts';

export interface Receipt {
  transactionHash: Hex;
  status: 'success' | 'reverted';
  gasUsed: bigint;
  blockNumber: bigint;
  contractAddress: Hex | null;
  logs: Log[];
  events: DecodedEvent[];
}

export interface TypedData {
  domain: Record<string, unknown>;
  types: Record<string, { name: string; type: string }[]>;
  primaryType: string;
  message: Record<string, unknown>;
}

export interface ChainClientInit {
  rpcUrl: string;
  /** ABIs used to decode events and revert reasons. */
  abis?: readonly (readonly AbiItem[])[];
  /** @default 10_000 */
  timeoutMs?: number;
}

const json = (v: unknown) =>
  JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));

export class ChainClient {
  readonly rpcUrl: string;
  private readonly abis: (readonly AbiItem[])[];
  private readonly timeoutMs: number;
  private id = 0;

  constructor(init: ChainClientInit) {
    this.rpcUrl = init.rpcUrl;
    this.abis = [...(init.abis ?? [])];
    this.timeoutMs = init.timeoutMs ?? 10_000;
  }

  async request<T = unknown>(
    method: string,
    params: unknown[] = [],
    options: { signal?: AbortSignal } = {},
  ): Promise<T> {
    const res = await fetch(this.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: json({ jsonrpc: '2.0', id: ++this.id, method, params }),
      signal: options.signal ?? AbortSignal.timeout(this.timeoutMs),
    });
    const body = (await res.json()) as {
      result?: T;
      error?: { code: number; message: string; data?: unknown };
    };
    if (body.error)
      throw new RpcError(`${method}: ${body.error.message}`, body.error.code, body.error.data);
    return body.result as T;
  }

  async chainId(): Promise<number> {
    return Number(await this.request<Hex>('eth_chainId'));
  }

  async accounts(): Promise<Hex[]> {
    return this.request<Hex[]>('eth_accounts');
  }

  async blockTimestamp(): Promise<bigint> {
    const block = await this.request<{ timestamp: Hex }>('eth_getBlockByNumber', ['latest', false]);
    return BigInt(block.timestamp);
  }

  async read<T = unknown>(
    address: Hex,
    abi: readonly AbiItem[],
    functionName: string,
    args: readonly unknown[] = [],
    from?: Hex,
  ): Promise<T> {
    const fn = findItem(abi, 'function', functionName);
    const data = encodeFunctionData(abi, functionName, args);
    let out: Hex;
    try {
      out = await this.request<Hex>('eth_call', [
        { to: address, data, ...(from ? { from } : {}) },
        'latest',
      ]);
    } catch (err) {
      throw this.revertError(functionName, abi, err);
    }
    const values = decodeParams(fn.outputs ?? [], out);
    return (values.length === 1 ? values[0] : values) as T;
  }

  /** Sends a transaction from an account the node holds and waits for its receipt. */
  async write(
    from: Hex,
    address: Hex,
    abi: readonly AbiItem[],
    functionName: string,
    args: readonly unknown[] = [],
  ): Promise<Receipt> {
    const data = encodeFunctionData(abi, functionName, args);
    return this.send(from, { to: address, data }, functionName, abi);
  }

  async deploy(
    from: Hex,
    abi: readonly AbiItem[],
    bytecode: Hex,
    args: readonly unknown[] = [],
  ): Promise<Hex> {
    const ctor = abi.find((i) => i.type === 'constructor');
    const data = (bytecode + (ctor ? encodeParams(ctor.inputs ?? [], args).slice(2) : '')) as Hex;
    const receipt = await this.send(from, { data }, 'constructor', abi);
    return receipt.contractAddress!;
  }

  async signTypedData(from: Hex, typedData: TypedData): Promise<Hex> {
    return this.request<Hex>('eth_signTypedData_v4', [from, json(typedData)]);
  }

  /** Moves the dev chain's clock forward and mines one block at the new time. */
  async increaseTime(seconds: number | bigint): Promise<void> {
    await this.request('evm_increaseTime', [Number(seconds)]);
    await this.request('evm_mine');
  }

  private async send(
    from: Hex,
    tx: { to?: Hex; data: Hex },
    functionName: string,
    abi: readonly AbiItem[],
  ) {
    let hash: Hex;
    try {
      // Simulate first: nodes (anvil included) mine a reverting transaction without complaint,
      // and the reason is only available from a call.
      await this.request('eth_call', [{ from, ...tx }, 'latest']);
      hash = await this.request<Hex>('eth_sendTransaction', [{ from, ...tx }]);
    } catch (err) {
      throw this.revertError(functionName, abi, err);
    }
    for (;;) {
      const r = await this.request<{
        status: Hex;
        gasUsed: Hex;
        blockNumber: Hex;
        contractAddress: Hex | null;
        logs: Log[];
      } | null>('eth_getTransactionReceipt', [hash]);
      if (r) {
        const receipt: Receipt = {
          transactionHash: hash,
          status: r.status === '0x1' ? 'success' : 'reverted',
          gasUsed: BigInt(r.gasUsed),
          blockNumber: BigInt(r.blockNumber),
          contractAddress: r.contractAddress,
          logs: r.logs,
          events: r.logs.map((l) => this.decodeLog(l, abi)).filter((e): e is DecodedEvent => !!e),
        };
        if (receipt.status === 'reverted')
          throw new ContractRevertError(functionName, undefined, undefined);
        return receipt;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private decodeLog(log: Log, abi: readonly AbiItem[]): DecodedEvent | undefined {
    for (const a of [abi, ...this.abis]) {
      const e = decodeEventLog(a, log);
      if (e) return e;
    }
    return undefined;
  }

  private revertError(functionName: string, abi: readonly AbiItem[], err: unknown): Error {
    if (!(err instanceof RpcError)) return err as Error;
    const data = typeof err.data === 'string' ? (err.data as Hex) : undefined;
    if (!data || !data.startsWith('0x') || data.length < 10) return err;
    let decoded = undefined;
    for (const a of [abi, ...this.abis]) decoded ??= decodeErrorData(a, data);
    return new ContractRevertError(functionName, decoded, data, { cause: err });
  }
}
