import type { DecodedError } from './abi.ts';

/** A JSON-RPC call failed (transport or node error). */
export class RpcError extends Error {
  override readonly name = 'RpcError';
  readonly code: number | undefined;
  readonly data: unknown;
  constructor(message: string, code?: number, data?: unknown) {
    super(message);
    this.code = code;
    this.data = data;
  }
}

/** A call or transaction reverted; `error` is the decoded custom error when the ABI knows it. */
export class ContractRevertError extends Error {
  override readonly name = 'ContractRevertError';
  readonly functionName: string;
  readonly error: DecodedError | undefined;
  readonly data: string | undefined;
  constructor(
    functionName: string,
    error: DecodedError | undefined,
    data: string | undefined,
    options?: { cause?: unknown },
  ) {
    const reason = error
      ? `${error.name}(${error.args.map(String).join(', ')})`
      : (data ?? 'no reason');
    super(`${functionName} reverted: ${reason}`, options);
    this.functionName = functionName;
    this.error = error;
    this.data = data;
  }
}

/** The node is on another chain than the configuration names. */
export class WrongChainError extends Error {
  override readonly name = 'WrongChainError';
  readonly expected: number;
  readonly actual: number;
  constructor(expected: number, actual: number) {
    super(`connected to chain ${actual}, expected ${expected}`);
    this.expected = expected;
    this.actual = actual;
  }
}
