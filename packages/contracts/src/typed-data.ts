// EIP-712 payloads the contracts check: the host's quote and the token's EIP-2612 permit.
import { fromHex, type Hex } from './abi.ts';
import type { TypedData } from './client.ts';

export interface Quote {
  host: Hex;
  root: Hex;
  size: bigint;
  leafCount: bigint;
  leafSize: number;
  duration: number;
  /** total price of the deal, escrowed at opening */
  price: bigint;
  /** unix seconds after which the quote cannot open a deal */
  expiry: bigint;
  nonce: bigint;
}

/** A deal for `openDeals`: the quote, the host's signature, and an optional failed deal it repairs. */
export interface DealRequest extends Quote {
  repairOf: bigint;
  signature: Hex;
}

const EIP712_DOMAIN = [
  { name: 'name', type: 'string' },
  { name: 'version', type: 'string' },
  { name: 'chainId', type: 'uint256' },
  { name: 'verifyingContract', type: 'address' },
];

export function quoteTypedData(chainId: number, market: Hex, client: Hex, q: Quote): TypedData {
  return {
    domain: { name: 'Cairn StorageMarket', version: '1', chainId, verifyingContract: market },
    types: {
      EIP712Domain: EIP712_DOMAIN,
      Quote: [
        { name: 'client', type: 'address' },
        { name: 'host', type: 'address' },
        { name: 'root', type: 'bytes32' },
        { name: 'size', type: 'uint64' },
        { name: 'leafCount', type: 'uint64' },
        { name: 'leafSize', type: 'uint32' },
        { name: 'duration', type: 'uint32' },
        { name: 'price', type: 'uint128' },
        { name: 'expiry', type: 'uint64' },
        { name: 'nonce', type: 'uint64' },
      ],
    },
    primaryType: 'Quote',
    message: { client, ...q },
  };
}

export interface PermitMessage {
  owner: Hex;
  spender: Hex;
  value: bigint;
  nonce: bigint;
  deadline: bigint;
}

export function permitTypedData(
  chainId: number,
  token: Hex,
  p: PermitMessage,
  name = 'Cairn',
): TypedData {
  return {
    domain: { name, version: '1', chainId, verifyingContract: token },
    types: {
      EIP712Domain: EIP712_DOMAIN,
      Permit: [
        { name: 'owner', type: 'address' },
        { name: 'spender', type: 'address' },
        { name: 'value', type: 'uint256' },
        { name: 'nonce', type: 'uint256' },
        { name: 'deadline', type: 'uint256' },
      ],
    },
    primaryType: 'Permit',
    message: { ...p },
  };
}

/** The market's `Permit` argument; `NO_PERMIT` means "use the existing allowance". */
export interface PermitArg {
  value: bigint;
  deadline: bigint;
  v: number;
  r: Hex;
  s: Hex;
}

export const NO_PERMIT: PermitArg = {
  value: 0n,
  deadline: 0n,
  v: 0,
  r: `0x${'00'.repeat(32)}`,
  s: `0x${'00'.repeat(32)}`,
};

/** Splits a 65-byte signature into the permit argument. */
export function permitArg(value: bigint, deadline: bigint, signature: Hex): PermitArg {
  const b = fromHex(signature);
  if (b.length !== 65) throw new RangeError('signature must be 65 bytes');
  const v = b[64]! < 27 ? b[64]! + 27 : b[64]!;
  return {
    value,
    deadline,
    v,
    r: signature.slice(0, 66) as Hex,
    s: `0x${signature.slice(66, 130)}`,
  };
}
