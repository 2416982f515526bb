// EIP-712 payloads the contracts check: the host's quote and the client's repair mandate
// (StorageMarket) and the token's EIP-2612 permit, signed and hashed through viem.
import {
  hashTypedData,
  maxUint256,
  parseSignature,
  type Address,
  type Hex,
  type TypedDataDomain,
} from 'viem';
import {
  assertTokenBalance,
  assertWalletChain,
  type ChainReader,
  type ChainSigner,
} from './chain.ts';
import { toCairnError } from './errors.ts';
import { cairnTokenAbi, storageMarketAbi } from './generated/abis.ts';

export interface Quote {
  host: Address;
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

export const quoteTypes = {
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
} as const;

export const permitTypes = {
  Permit: [
    { name: 'owner', type: 'address' },
    { name: 'spender', type: 'address' },
    { name: 'value', type: 'uint256' },
    { name: 'nonce', type: 'uint256' },
    { name: 'deadline', type: 'uint256' },
  ],
} as const;

/** The market's EIP-712 domain. */
export function marketDomain(chainId: number, market: Address): TypedDataDomain {
  return { name: 'Cairn StorageMarket', version: '1', chainId, verifyingContract: market };
}

/** The quote as typed data (for `signTypedData`, `hashTypedData`, `verifyTypedData`). */
export function quoteTypedData(chainId: number, market: Address, client: Address, q: Quote) {
  return {
    domain: marketDomain(chainId, market),
    types: quoteTypes,
    primaryType: 'Quote' as const,
    message: {
      client,
      host: q.host,
      root: q.root,
      size: q.size,
      leafCount: q.leafCount,
      leafSize: q.leafSize,
      duration: q.duration,
      price: q.price,
      expiry: q.expiry,
      nonce: q.nonce,
    },
  };
}

/** The EIP-712 digest the market checks the host's signature against (its `quoteDigest`). */
export function hashQuote(
  config: { chainId: number; market: Address },
  client: Address,
  quote: Quote,
): Hex {
  return hashTypedData(quoteTypedData(config.chainId, config.market, client, quote));
}

/** The host (the signer) signs a quote for `client`; the client presents it to `openDeals`. */
export async function signQuote(
  signer: ChainSigner,
  client: Address,
  quote: Omit<Quote, 'host'>,
): Promise<Hex> {
  try {
    await assertWalletChain(signer);
    return await signer.walletClient.signTypedData(
      quoteTypedData(signer.config.chainId, signer.config.market, client, {
        ...quote,
        host: signer.account,
      }),
    );
  } catch (err) {
    throw toCairnError(err, 'a storage quote');
  }
}

export const mandateTypes = {
  Mandate: [
    { name: 'client', type: 'address' },
    { name: 'mediator', type: 'address' },
    { name: 'budget', type: 'uint128' },
    { name: 'expiry', type: 'uint64' },
    { name: 'nonce', type: 'uint64' },
  ],
} as const;

/** A client's mandate to a mediator: spend up to `budget` tokens on repair deals until `expiry`. */
export interface MandateMessage {
  client: Address;
  mediator: Address;
  /** token units the mediator may spend on repair deals (0 revokes) */
  budget: bigint;
  /** unix seconds; the mandate is usable up to and including this second */
  expiry: bigint;
  /** the pair's current nonce (`getMandate(client, mediator).nonce`) */
  nonce: bigint;
}

/** A mandate with the client's signature, for the mediator's `setMandateBySig`. */
export interface SignedMandate extends MandateMessage {
  signature: Hex;
}

/** The mandate as typed data (for `signTypedData`, `hashTypedData`, `verifyTypedData`). */
export function mandateTypedData(chainId: number, market: Address, m: MandateMessage) {
  return {
    domain: marketDomain(chainId, market),
    types: mandateTypes,
    primaryType: 'Mandate' as const,
    message: {
      client: m.client,
      mediator: m.mediator,
      budget: m.budget,
      expiry: m.expiry,
      nonce: m.nonce,
    },
  };
}

/** The EIP-712 digest the market checks a mandate's signature against (its `mandateDigest`). */
export function hashMandate(config: { chainId: number; market: Address }, m: MandateMessage): Hex {
  return hashTypedData(mandateTypedData(config.chainId, config.market, m));
}

/**
 * The client (the signer) signs a mandate letting `mediator` spend up to `budget` of its tokens on
 * repair deals until `expiry`; the mediator (or anyone) submits it with `setMandateBySig`. The
 * nonce defaults to the pair's current one, read from the market. The market pulls the tokens, so
 * the client also approves the market or signs a permit (`signPermit`) the mediator passes to
 * `openRepairDeals`.
 */
export async function signMandate(
  signer: ChainSigner,
  args: { mediator: Address; budget: bigint; expiry: bigint; nonce?: bigint },
): Promise<SignedMandate> {
  try {
    await assertWalletChain(signer);
    const nonce =
      args.nonce ??
      (
        await signer.publicClient.readContract({
          address: signer.config.market,
          abi: storageMarketAbi,
          functionName: 'getMandate',
          args: [signer.account, args.mediator],
        })
      ).nonce;
    const message: MandateMessage = {
      client: signer.account,
      mediator: args.mediator,
      budget: args.budget,
      expiry: args.expiry,
      nonce,
    };
    const signature = await signer.walletClient.signTypedData(
      mandateTypedData(signer.config.chainId, signer.config.market, message),
    );
    return { ...message, signature };
  } catch (err) {
    throw toCairnError(err, 'a repair mandate');
  }
}

export interface PermitMessage {
  owner: Address;
  spender: Address;
  value: bigint;
  nonce: bigint;
  deadline: bigint;
}

export function permitTypedData(chainId: number, token: Address, p: PermitMessage, name = 'Cairn') {
  return {
    domain: { name, version: '1', chainId, verifyingContract: token },
    types: permitTypes,
    primaryType: 'Permit' as const,
    message: p,
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
  const { r, s, yParity } = parseSignature(signature);
  return { value, deadline, v: 27 + yParity, r, s };
}

/**
 * The signer signs an EIP-2612 permit letting the market pull `value` of its tokens (checked to
 * be there first), usable until `deadline` (unix seconds). The token's domain is read from the
 * token itself (ERC-5267). A permit sets the allowance (it does not add to it); with
 * `onTopOfAllowance` the permit's value is the market's current allowance plus `value`, so an
 * allowance the client keeps for a mediator's mandate survives the client's own deals.
 */
export async function signPermit(
  signer: ChainSigner,
  value: bigint,
  deadline: bigint,
  options: { onTopOfAllowance?: boolean } = {},
): Promise<PermitArg> {
  try {
    await assertWalletChain(signer);
    await assertTokenBalance(signer, signer.account, value);
    const [nonce, erc5267, allowance] = await Promise.all([
      tokenNonce(signer, signer.account),
      signer.publicClient.getEip712Domain({ address: signer.config.token }),
      options.onTopOfAllowance
        ? signer.publicClient.readContract({
            address: signer.config.token,
            abi: cairnTokenAbi,
            functionName: 'allowance',
            args: [signer.account, signer.config.market],
          })
        : 0n,
    ]);
    // An unlimited allowance stays unlimited (the token does not spend it down).
    value = allowance + value > maxUint256 ? maxUint256 : allowance + value;
    // ERC-5267's `fields` bitmap says which domain fields the token uses (viem returns them all).
    const fields = Number(erc5267.fields);
    const { name, version, chainId, verifyingContract, salt } = erc5267.domain;
    const domain: TypedDataDomain = {
      ...(fields & 1 ? { name } : {}),
      ...(fields & 2 ? { version } : {}),
      ...(fields & 4 ? { chainId } : {}),
      ...(fields & 8 ? { verifyingContract } : {}),
      ...(fields & 16 ? { salt } : {}),
    };
    const owner = signer.account;
    const sig = await signer.walletClient.signTypedData({
      domain,
      types: permitTypes,
      primaryType: 'Permit',
      message: { owner, spender: signer.config.market, value, nonce, deadline },
    });
    return permitArg(value, deadline, sig);
  } catch (err) {
    throw toCairnError(err, 'a token permit');
  }
}

function tokenNonce(reader: ChainReader, owner: Address): Promise<bigint> {
  return reader.publicClient.readContract({
    address: reader.config.token,
    abi: cairnTokenAbi,
    functionName: 'nonces',
    args: [owner],
  });
}
