/**
 * Paid storage: the client asks each chosen host for a quote over `/cairn/quote/1.0.0`, checks
 * it, opens every deal of the file in one transaction (escrow through an EIP-2612 permit), and only
 * then sends the shards, each put carrying its deal id. The host signs quotes (`hostQuoter`) and
 * admits a put only for a live deal on chain that names it and that exact root and size
 * (`dealAdmission`): no free storage for spammers.
 *
 * terms (client → host) = version(1) || client(20) || root(32) || varint size || varint leafCount
 *                          || varint leafSize || varint duration || varint chainId || market(20)
 * quote (host → client) = version(1) || host(20) || price(16, big-endian) || varint expiry
 *                          || varint nonce || signature(65)
 * deal bytes (in a put)  = version(1) || kind(1: 0 shard, 1 file record) || dealId(32, big-endian)
 */
import {
  ByteReader,
  ByteWriter,
  MalformedError,
  equalBytes,
  fromHex,
  leafCountOf,
  toHex,
} from '@cairn/codec';
import {
  DealStatus,
  chainNow,
  endDeal,
  getDeal,
  hashQuote,
  openDeals,
  openRepairDeals,
  openedDealIds,
  signPermit,
  signQuote,
  type ChainReader,
  type ChainSigner,
  type DealRequest,
} from '@cairn/contracts';
import { PutRefusedError, requestQuote, type PutAdmission } from '@cairn/peer';
import { recoverAddress, type Address, type Hex } from 'viem';
import { DriveError } from './errors.ts';
import type { CairnNetwork } from './network.ts';
import type { DealPlan, DealsOpened } from './place.ts';
import { MAX_RECORD_SIZE } from './record.ts';

const VERSION = 1;
export const DEAL_KIND = { shard: 0, record: 1 } as const;

/** A host's quote was missing, malformed, signed by another key, or over the client's limit. */
export class QuoteRejectedError extends DriveError {
  override name = 'QuoteRejectedError' as const;
}

export interface DealTerms {
  client: Address;
  root: Uint8Array;
  size: number;
  leafCount: number;
  leafSize: number;
  /** Periods. */
  duration: number;
  chainId: number;
  market: Address;
}

export interface SignedQuote {
  host: Address;
  price: bigint;
  expiry: bigint;
  nonce: bigint;
  signature: Hex;
}

export function encodeTerms(t: DealTerms): Uint8Array {
  return new ByteWriter()
    .u8(VERSION)
    .bytes(fromHex(t.client.slice(2)))
    .bytes(t.root)
    .varint(t.size)
    .varint(t.leafCount)
    .varint(t.leafSize)
    .varint(t.duration)
    .varint(t.chainId)
    .bytes(fromHex(t.market.slice(2)))
    .finish();
}

export function decodeTerms(bytes: Uint8Array): DealTerms {
  return parse(bytes, (r) => {
    version(r);
    const t: DealTerms = {
      client: address(r.bytes('client', 20)),
      root: r.bytes('root', 32),
      size: r.varint('size'),
      leafCount: r.varint('leafCount'),
      leafSize: r.varint('leafSize', 4096),
      duration: r.varint('duration', 2 ** 32 - 1),
      chainId: r.varint('chainId'),
      market: address(r.bytes('market', 20)),
    };
    r.end('terms');
    return t;
  });
}

export function encodeQuote(q: SignedQuote): Uint8Array {
  return new ByteWriter()
    .u8(VERSION)
    .bytes(fromHex(q.host.slice(2)))
    .bytes(uint128(q.price))
    .varint(Number(q.expiry))
    .varint(Number(q.nonce))
    .bytes(fromHex(q.signature.slice(2)))
    .finish();
}

export function decodeQuote(bytes: Uint8Array): SignedQuote {
  return parse(bytes, (r) => {
    version(r);
    const q: SignedQuote = {
      host: address(r.bytes('host', 20)),
      price: BigInt(`0x${toHex(r.bytes('price', 16))}`),
      expiry: BigInt(r.varint('expiry')),
      nonce: BigInt(r.varint('nonce')),
      signature: `0x${toHex(r.bytes('signature', 65))}`,
    };
    r.end('quote');
    return q;
  });
}

export function encodeDealRef(kind: keyof typeof DEAL_KIND, dealId: bigint): Uint8Array {
  const id = fromHex(dealId.toString(16).padStart(64, '0'));
  return new ByteWriter().u8(VERSION).u8(DEAL_KIND[kind]).bytes(id).finish();
}

export function decodeDealRef(bytes: Uint8Array): { kind: 'shard' | 'record'; dealId: bigint } {
  return parse(bytes, (r) => {
    version(r);
    const k = r.u8('kind');
    if (k > 1) throw new MalformedError(`unknown deal kind ${k}`);
    const dealId = BigInt(`0x${toHex(r.bytes('dealId', 32))}`);
    r.end('deal');
    return { kind: k === 0 ? 'shard' : 'record', dealId };
  });
}

// ---------------------------------------------------------------- host side

export interface QuoterInit {
  signer: ChainSigner;
  /** Token base units per byte per period. */
  pricePerBytePeriod: bigint;
  /** Seconds a quote stays usable. @default 600 */
  ttlSeconds?: number;
  /** Longest deal the host signs for, in periods. @default 10_000 */
  maxDuration?: number;
  /** Largest shard the host quotes for. */
  maxSize?: number;
}

/** The host's `quoter` for `HostService`: signs the market's EIP-712 quote for the terms asked. */
export function hostQuoter(init: QuoterInit): (terms: Uint8Array) => Promise<Uint8Array> {
  const { signer } = init;
  let lastNonce = BigInt(Date.now()) * 1000n;
  return async (bytes) => {
    let t: DealTerms;
    try {
      t = decodeTerms(bytes);
    } catch (err) {
      throw new PutRefusedError(`unreadable terms: ${(err as Error).message}`);
    }
    if (
      t.chainId !== signer.config.chainId ||
      t.market.toLowerCase() !== signer.config.market.toLowerCase()
    )
      throw new PutRefusedError(
        `this host sells on chain ${signer.config.chainId}, market ${signer.config.market}`,
      );
    if (t.leafCount !== leafCountOf(t.size, t.leafSize))
      throw new PutRefusedError('leafCount does not match size and leafSize');
    if (t.duration < 1 || t.duration > (init.maxDuration ?? 10_000))
      throw new PutRefusedError(`duration must be 1..${init.maxDuration ?? 10_000} periods`);
    if (init.maxSize !== undefined && t.size > init.maxSize)
      throw new PutRefusedError(`shards up to ${init.maxSize} bytes`);
    const price = BigInt(t.size) * init.pricePerBytePeriod * BigInt(t.duration);
    const expiry = (await chainNow(signer)) + BigInt(init.ttlSeconds ?? 600);
    const now = BigInt(Date.now()) * 1000n;
    lastNonce = now > lastNonce ? now : lastNonce + 1n;
    const quote = {
      root: `0x${toHex(t.root)}` as Hex,
      size: BigInt(t.size),
      leafCount: BigInt(t.leafCount),
      leafSize: t.leafSize,
      duration: t.duration,
      price,
      expiry,
      nonce: lastNonce,
    };
    const signature = await signQuote(signer, t.client, quote);
    return encodeQuote({ host: signer.account, price, expiry, nonce: lastNonce, signature });
  };
}

export interface AdmissionInit {
  reader: ChainReader;
  /** The host's wallet address, as registered in the market. */
  host: Address;
}

/**
 * The host's `admit` for `HostService`: a shard put must name a live deal for this host with this
 * exact root and size; a file record (at most `MAX_RECORD_SIZE`) rides on a live deal of this host,
 * one record per deal.
 */
export function dealAdmission(init: AdmissionInit): (put: PutAdmission) => Promise<void> {
  const recordFor = new Set<bigint>();
  return async (put) => {
    if (put.deal.byteLength === 0)
      throw new PutRefusedError('this host stores only for a funded deal: none was named');
    let ref: { kind: 'shard' | 'record'; dealId: bigint };
    try {
      ref = decodeDealRef(put.deal);
    } catch (err) {
      throw new PutRefusedError(`unreadable deal reference: ${(err as Error).message}`);
    }
    const deal = await getDeal(init.reader, ref.dealId);
    if (deal.status !== DealStatus.Active)
      throw new PutRefusedError(`deal ${ref.dealId} is not active`);
    if (deal.host.toLowerCase() !== init.host.toLowerCase())
      throw new PutRefusedError(`deal ${ref.dealId} is with another host`);
    if (ref.kind === 'record') {
      if (put.size > MAX_RECORD_SIZE)
        throw new PutRefusedError(`a file record is at most ${MAX_RECORD_SIZE} bytes`);
      if (recordFor.has(ref.dealId))
        throw new PutRefusedError(`deal ${ref.dealId} already carried a file record`);
      recordFor.add(ref.dealId);
      return;
    }
    if (!equalBytes(fromHex(deal.root.slice(2)), put.root) || deal.size !== BigInt(put.size))
      throw new PutRefusedError(`deal ${ref.dealId} is for another root or size`);
  };
}

// ---------------------------------------------------------------- client side

export interface PaidUploadInit {
  signer: ChainSigner;
  network: CairnNetwork;
  /** Periods each deal runs. */
  duration: number;
  /** Refuse quotes above this price per byte per period. */
  maxPricePerBytePeriod?: bigint;
  /** Wallet address per host peer id (from the directory's records). */
  wallets: ReadonlyMap<string, Address>;
  /**
   * Repair: shard index → the client's failed deal whose slot the new deal takes over (the
   * market then pays the client that slot's repair bounty).
   */
  repairOf?: ReadonlyMap<number, bigint>;
  /**
   * A mediator repairing for this client under its mandate: quotes name the client, the deals are
   * the client's (opened with `openRepairDeals`, paid from the client's tokens within the
   * mandate's budget), and every shard must take over a failed deal (`repairOf`).
   */
  onBehalfOf?: Address;
}

/**
 * The `deals` hook of `upload`: quotes from the assigned hosts, one `openDeals` transaction (the
 * escrow pulled by permit), and the deal reference each put must carry. A host whose quote is
 * missing or bad fails only its shard (the upload places it elsewhere in the next pass).
 */
export function paidDeals(init: PaidUploadInit) {
  return async (plan: DealPlan): Promise<DealsOpened & { ids: Map<number, bigint> }> => {
    const { signer, network } = init;
    const { layout, roots } = plan;
    const client = init.onBehalfOf ?? signer.account;
    const mediated = client.toLowerCase() !== signer.account.toLowerCase();
    const requests: { shard: number; request: DealRequest }[] = [];
    const failed = new Map<number, unknown>();
    await Promise.all(
      [...plan.targets].map(async ([shard, host]) => {
        try {
          const wallet = init.wallets.get(host);
          if (wallet === undefined) throw new QuoteRejectedError(`host ${host} has no wallet`);
          if (mediated && !init.repairOf?.has(shard))
            throw new QuoteRejectedError(`a mediator repairs failed deals only (shard ${shard})`);
          const terms: DealTerms = {
            client,
            root: roots[shard]!,
            size: layout.shardSize,
            leafCount: leafCountOf(layout.shardSize, layout.leafSize),
            leafSize: layout.leafSize,
            duration: init.duration,
            chainId: signer.config.chainId,
            market: signer.config.market,
          };
          const addrs = await network.addressesOf(host, plan.signal);
          const q = decodeQuote(
            await requestQuote(network.node, addrs, encodeTerms(terms), {
              ...(plan.signal ? { signal: plan.signal } : {}),
            }),
          );
          const quote = {
            host: q.host,
            root: `0x${toHex(terms.root)}` as Hex,
            size: BigInt(terms.size),
            leafCount: BigInt(terms.leafCount),
            leafSize: terms.leafSize,
            duration: terms.duration,
            price: q.price,
            expiry: q.expiry,
            nonce: q.nonce,
          };
          const signedBy = await recoverAddress({
            hash: hashQuote(signer.config, client, quote),
            signature: q.signature,
          });
          if (
            signedBy.toLowerCase() !== wallet.toLowerCase() ||
            q.host.toLowerCase() !== wallet.toLowerCase()
          )
            throw new QuoteRejectedError(`host ${host}'s quote is not signed by its wallet`);
          const limit = init.maxPricePerBytePeriod;
          if (limit !== undefined && q.price > limit * BigInt(terms.size) * BigInt(terms.duration))
            throw new QuoteRejectedError(`host ${host} asks ${q.price}, over the limit`);
          const repairOf = init.repairOf?.get(shard) ?? 0n;
          requests.push({ shard, request: { ...quote, repairOf, signature: q.signature } });
        } catch (err) {
          failed.set(shard, err);
        }
      }),
    );
    const deals = new Map<number, Uint8Array>();
    const ids = new Map<number, bigint>();
    // Only the client can end its deals: a mediator's unused ones run out (slashed in the
    // client's favour) or are ended by the client's keeper.
    const end = mediated
      ? undefined
      : async (dealIds: bigint[]): Promise<void> => {
          for (const id of dealIds) await endDeal(signer, id);
        };
    const result = (): DealsOpened & { ids: Map<number, bigint> } => ({
      deals,
      failed,
      ids,
      ...(end ? { end } : {}),
    });
    if (requests.length === 0) return result();
    requests.sort((a, b) => a.shard - b.shard);
    const total = requests.reduce((n, r) => n + r.request.price, 0n);
    const deadline = (await chainNow(signer)) + 600n;
    const batch = requests.map((r) => r.request);
    let receipt;
    if (mediated) receipt = await openRepairDeals(signer, client, batch);
    else {
      const permit =
        total > 0n
          ? await signPermit(signer, total, deadline, { onTopOfAllowance: true })
          : undefined;
      receipt = await openDeals(signer, batch, permit);
    }
    const opened = openedDealIds(receipt);
    requests.forEach((r, i) => {
      ids.set(r.shard, opened[i]!);
      deals.set(r.shard, encodeDealRef('shard', opened[i]!));
    });
    return result();
  };
}

// ---------------------------------------------------------------- helpers

function parse<T>(bytes: Uint8Array, fn: (r: ByteReader) => T): T {
  try {
    return fn(new ByteReader(bytes));
  } catch (err) {
    if (err instanceof MalformedError) throw new QuoteRejectedError(err.message, { cause: err });
    throw err;
  }
}

function version(r: ByteReader): void {
  const v = r.u8('version');
  if (v !== VERSION) throw new MalformedError(`version ${v} is not supported`);
}

function address(b: Uint8Array): Address {
  return `0x${toHex(b)}`;
}

function uint128(n: bigint): Uint8Array {
  if (n < 0n || n >= 1n << 128n) throw new RangeError('price out of uint128 range');
  return fromHex(n.toString(16).padStart(32, '0'));
}
