/**
 * Delegating a file to a mediator (`/cairn/mediator/delegate/1.0.0`), and asking a mediator who
 * it is (`/cairn/mediator/info/1.0.0`).
 *
 * The owner sends one signed message: the file's public `ShardSet` (roots and layout: nothing
 * that decrypts) and its placements with their deal ids, or a withdrawal. The signature is the
 * owner's wallet's (EIP-191 `personal_sign` over the keccak-256 of a domain tag and the message's
 * canonical bytes), so only the owner can delegate, update or withdraw a file, and the message
 * names the mediator's wallet and the chain, so it cannot be replayed to another mediator. A
 * later `issuedAt` replaces an earlier one for the same (client, id); a withdrawal leaves a mark
 * so the withdrawn message cannot be replayed. The mediator accepts a delegation only while the
 * owner's mandate to it (on chain: a budget and an expiry) is live, and only for deals of that
 * owner on those very shard roots.
 *
 * Wire (each message one frame: an unsigned LEB128 length, then the bytes; see
 * `@cairn/peer/directory`):
 *   delegate  owner -> mediator: bytes(body) bytes(signature, 65)
 *             mediator -> owner: status byte (0 accepted, 1 refused), string code, string reason
 *   body      version byte (1), kind byte (0 delegate, 1 withdraw), uint chainId,
 *             bytes client (20), bytes mediator (20), string id, uint issuedAt (unix ms),
 *             bytes ShardSet (codec's encodeShardSet; empty for a withdrawal),
 *             uint count, then per placement: uint shard, string host peer id, uint dealId + 1 (0: none)
 *   info      owner -> mediator: nothing (the owner closes its side)
 *             mediator -> owner: version byte (1), uint chainId, bytes market (20), bytes wallet (20),
 *                                uint files held
 */
import { decodeShardSet, encodeShardSet, fromHex, toHex, type ShardSet } from '@cairn/codec';
import {
  DealStatus,
  approveMarket,
  chainNow,
  getDeal,
  getMandate,
  setMandate,
  tokenAllowance,
  tokenBalance,
  type ChainReader,
  type ChainSigner,
} from '@cairn/contracts';
import { toMultiaddr, type CairnNode } from '@cairn/peer';
import {
  MessageTooLargeError,
  _FrameReader,
  _Reader,
  _withStream,
  _writeFrame,
  _Writer,
} from '@cairn/peer/directory';
import type { Connection, PeerId, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import type { Multiaddr } from '@multiformats/multiaddr';
import { concat, getAddress, keccak256, recoverMessageAddress, type Address, type Hex } from 'viem';
import { DriveError } from './errors.ts';
import type { DelegatedFile } from './mediator.ts';
import type { Placement } from './types.ts';

export const DELEGATE_PROTOCOL = '/cairn/mediator/delegate/1.0.0';
export const MEDIATOR_INFO_PROTOCOL = '/cairn/mediator/info/1.0.0';
export const DELEGATION_VERSION = 1;
/** The largest delegation message (frame) a mediator reads. */
export const MAX_DELEGATION_SIZE = 1024 * 1024;
/** The longest file id, in UTF-8 bytes. */
export const MAX_DELEGATION_ID = 128;
/** A delegation older than this (by its `issuedAt`) is refused as stale. */
export const MAX_DELEGATION_AGE_MS = 10 * 60_000;
/** A delegation issued further in the future than this (clock skew) is refused. */
export const MAX_DELEGATION_SKEW_MS = 5 * 60_000;
const MAX_PLACEMENTS = 1024;
const MAX_REASON = 512;
const MAX_RESPONSE_SIZE = 4096;
const SIGNATURE_DOMAIN = new TextEncoder().encode('cairn/mediator-delegation/v1\n');
const KIND = { delegate: 0, withdraw: 1 } as const;

/** Why a mediator refused a delegation (`DelegationRefusedError.code`). */
export type DelegationRefusal =
  | 'malformed'
  | 'too-large'
  | 'bad-signature'
  | 'wrong-mediator'
  | 'stale'
  | 'no-mandate'
  | 'wrong-deals'
  | 'full'
  | 'timeout'
  | 'internal';

const REFUSALS: readonly DelegationRefusal[] = [
  'malformed',
  'too-large',
  'bad-signature',
  'wrong-mediator',
  'stale',
  'no-mandate',
  'wrong-deals',
  'full',
  'timeout',
  'internal',
];

/** The mediator refused: `code` says why, the message says it in words. */
export class DelegationRefusedError extends DriveError {
  override name = 'DelegationRefusedError' as const;
  readonly code: DelegationRefusal;
  constructor(code: DelegationRefusal, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** What the owner signs: a file handed to a mediator, or taken back. */
export interface Delegation {
  kind: 'delegate' | 'withdraw';
  chainId: number;
  /** The owner's account: the deals' client, and the signer. */
  client: Address;
  /** The mediator's wallet (the mandate's mediator). */
  mediator: Address;
  /** The owner's name for the file (at most 128 UTF-8 bytes), unique per owner. */
  id: string;
  /** Unix ms; a later one replaces an earlier one for the same (client, id). */
  issuedAt: number;
  /** The file's public shape (delegate only). */
  set?: ShardSet;
  /** Where the shards are and the deals paying for them (delegate only). */
  placements: Placement[];
}

/** A delegation as received: decoded, with its bytes and the signature that verified. */
export interface SignedDelegation {
  delegation: Delegation;
  /** The whole request (body and signature), as sent: kept so it can be verified again. */
  request: Uint8Array;
}

/** Signs like a viem account (`privateKeyToAccount`, a key file's account). */
export interface DelegationSigner {
  address: Address;
  signMessage(args: { message: { raw: Hex } }): Promise<Hex>;
}

// ---------------------------------------------------------------- encoding

function address20(a: string): Uint8Array {
  const bytes = fromHex(getAddress(a).slice(2));
  if (bytes.byteLength !== 20) throw new RangeError(`not an address: ${a}`);
  return bytes;
}

/** The canonical bytes of a delegation (what is signed). */
export function encodeDelegation(d: Delegation): Uint8Array {
  const w = new _Writer()
    .byte(DELEGATION_VERSION)
    .byte(KIND[d.kind])
    .uint(d.chainId)
    .bytes(address20(d.client))
    .bytes(address20(d.mediator));
  const id = new TextEncoder().encode(d.id);
  if (id.byteLength === 0 || id.byteLength > MAX_DELEGATION_ID)
    throw new RangeError(`a file id is 1 to ${MAX_DELEGATION_ID} bytes`);
  w.bytes(id).uint(d.issuedAt);
  if (d.kind === 'delegate') {
    if (d.set === undefined) throw new RangeError('a delegation carries the ShardSet');
    w.bytes(encodeShardSet(d.set));
  } else w.bytes(new Uint8Array(0));
  const placements = d.kind === 'delegate' ? d.placements : [];
  if (placements.length > MAX_PLACEMENTS)
    throw new RangeError(`at most ${MAX_PLACEMENTS} placements`);
  w.uint(placements.length);
  for (const p of placements)
    w.uint(p.shard)
      .string(p.host)
      .bigUint(p.dealId === undefined ? 0n : p.dealId + 1n);
  return w.finish();
}

/** Decodes a delegation's bytes; MalformedMessageError (or a codec error) when they do not parse. */
export function decodeDelegation(body: Uint8Array): Delegation {
  const r = new _Reader(body);
  const version = r.byte();
  if (version !== DELEGATION_VERSION)
    throw new DelegationRefusedError('malformed', `delegation version ${version} is not supported`);
  const kindByte = r.byte();
  const kind = kindByte === 0 ? 'delegate' : kindByte === 1 ? 'withdraw' : undefined;
  if (kind === undefined)
    throw new DelegationRefusedError('malformed', `unknown delegation kind ${kindByte}`);
  const chainId = r.uint();
  const client = addressOf(r.bytes(20));
  const mediator = addressOf(r.bytes(20));
  const id = r.string(MAX_DELEGATION_ID);
  if (id === '') throw new DelegationRefusedError('malformed', 'empty file id');
  const issuedAt = r.uint();
  const setBytes = r.bytes(MAX_DELEGATION_SIZE);
  const count = r.uint();
  if (count > MAX_PLACEMENTS)
    throw new DelegationRefusedError('malformed', `more than ${MAX_PLACEMENTS} placements`);
  const placements: Placement[] = [];
  for (let i = 0; i < count; i++) {
    const shard = r.uint();
    const host = r.string(128);
    const deal = r.bigUint(64);
    placements.push({ shard, host, ...(deal > 0n ? { dealId: deal - 1n } : {}) });
  }
  r.end();
  if (kind === 'withdraw') {
    if (setBytes.byteLength !== 0 || count !== 0)
      throw new DelegationRefusedError('malformed', 'a withdrawal carries no file');
    return { kind, chainId, client, mediator, id, issuedAt, placements };
  }
  const set = decodeShardSet(setBytes);
  const n = set.k + set.m;
  for (const p of placements) {
    if (p.shard >= n)
      throw new DelegationRefusedError('malformed', `placement of shard ${p.shard} of ${n}`);
    try {
      peerIdFromString(p.host);
    } catch {
      throw new DelegationRefusedError('malformed', `placement host ${p.host} is not a peer id`);
    }
  }
  if (placements.length === 0)
    throw new DelegationRefusedError('malformed', 'a delegation names its placements');
  return { kind, chainId, client, mediator, id, issuedAt, set, placements };
}

function addressOf(bytes: Uint8Array): Address {
  if (bytes.byteLength !== 20)
    throw new DelegationRefusedError('malformed', 'an address is 20 bytes');
  return getAddress(`0x${toHex(bytes)}`);
}

/** The hash the owner signs (EIP-191, as raw bytes): keccak-256 of the domain tag and the body. */
export function delegationHash(body: Uint8Array): Hex {
  return keccak256(concat([SIGNATURE_DOMAIN, body]));
}

/** The request frame: the body and the owner's signature. */
export function encodeDelegationRequest(body: Uint8Array, signature: Hex): Uint8Array {
  return new _Writer()
    .bytes(body)
    .bytes(fromHex(signature.slice(2)))
    .finish();
}

/** Signs `d` with the owner's wallet; returns the request to send (`sendDelegation`). */
export async function signDelegation(signer: DelegationSigner, d: Delegation): Promise<Uint8Array> {
  if (signer.address.toLowerCase() !== d.client.toLowerCase())
    throw new RangeError(`${signer.address} cannot sign a delegation for ${d.client}`);
  const body = encodeDelegation(d);
  const signature = await signer.signMessage({ message: { raw: delegationHash(body) } });
  return encodeDelegationRequest(body, signature);
}

/**
 * Decodes a request and checks its signature: the client it names must have signed it.
 * DelegationRefusedError ('malformed', 'bad-signature') otherwise.
 */
export async function verifyDelegation(request: Uint8Array): Promise<SignedDelegation> {
  let body: Uint8Array;
  let signature: Uint8Array;
  let delegation: Delegation;
  try {
    const r = new _Reader(request);
    body = r.bytes(MAX_DELEGATION_SIZE);
    signature = r.bytes(65);
    r.end();
    delegation = decodeDelegation(body);
  } catch (err) {
    if (err instanceof DelegationRefusedError) throw err;
    throw new DelegationRefusedError(
      'malformed',
      `malformed delegation: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  if (signature.byteLength !== 65)
    throw new DelegationRefusedError('bad-signature', 'the signature is not 65 bytes');
  let signer: Address;
  try {
    signer = await recoverMessageAddress({
      message: { raw: delegationHash(body) },
      signature: `0x${toHex(signature)}`,
    });
  } catch (err) {
    throw new DelegationRefusedError('bad-signature', 'the signature does not verify', {
      cause: err,
    });
  }
  if (signer.toLowerCase() !== delegation.client.toLowerCase())
    throw new DelegationRefusedError(
      'bad-signature',
      `the delegation for ${delegation.client} is signed by ${signer}`,
    );
  return { delegation, request };
}

export interface DelegationReply {
  /** 'accepted' (new), 'updated' (replaced an earlier one), 'withdrawn', 'not-held' (withdrawn, none held). */
  result: DelegationResult;
  message: string;
}

export type DelegationResult = 'accepted' | 'updated' | 'withdrawn' | 'not-held';
const RESULTS: readonly DelegationResult[] = ['accepted', 'updated', 'withdrawn', 'not-held'];

function encodeReply(
  r: { ok: true; result: DelegationResult; message: string } | DelegationRefusedError,
): Uint8Array {
  const w = new _Writer();
  if (r instanceof DelegationRefusedError)
    return w.byte(1).string(r.code).string(r.message.slice(0, MAX_REASON)).finish();
  return w.byte(0).string(r.result).string(r.message.slice(0, MAX_REASON)).finish();
}

function decodeReply(bytes: Uint8Array): DelegationReply {
  const r = new _Reader(bytes);
  const status = r.byte();
  const code = r.string(64);
  const message = r.string(MAX_REASON * 4);
  r.end();
  if (status === 1) {
    const known = REFUSALS.includes(code as DelegationRefusal);
    throw new DelegationRefusedError(
      known ? (code as DelegationRefusal) : 'internal',
      `the mediator refused the delegation (${code}): ${message}`,
    );
  }
  if (status !== 0 || !RESULTS.includes(code as DelegationResult))
    throw new DelegationRefusedError('malformed', `the mediator answered ${status}/${code}`);
  return { result: code as DelegationResult, message };
}

// ---------------------------------------------------------------- owner side

export type MediatorTarget = PeerId | Multiaddr | Multiaddr[] | string;

function target(t: MediatorTarget): PeerId | Multiaddr | Multiaddr[] {
  return typeof t === 'string' ? toMultiaddr(t) : t;
}

export interface DelegationClientOptions {
  signal?: AbortSignal;
  /** The whole exchange (dial included). @default 30_000 */
  timeoutMs?: number;
}

/**
 * Sends a signed delegation (or withdrawal) to a mediator; resolves with its acceptance,
 * rejects with DelegationRefusedError (its `code` says why) when it refuses.
 */
export async function sendDelegation(
  node: Pick<CairnNode, 'dialProtocol'>,
  mediator: MediatorTarget,
  request: Uint8Array,
  options: DelegationClientOptions = {},
): Promise<DelegationReply> {
  const signal = AbortSignal.any([
    AbortSignal.timeout(options.timeoutMs ?? 30_000),
    ...(options.signal ? [options.signal] : []),
  ]);
  const stream = await node.dialProtocol(target(mediator), DELEGATE_PROTOCOL, dialOptions(signal));
  return _withStream(stream, signal, async () => {
    // The answer is read while the request is still being sent: a mediator refuses an oversized
    // request from its length alone, and stops reading.
    const replied = new _FrameReader(stream).next(MAX_RESPONSE_SIZE);
    let sent = false;
    void (async () => {
      await _writeFrame(stream, request, { signal });
      await stream.close({ signal });
      sent = true;
    })().catch(() => {});
    const bytes = await replied;
    if (!sent) stream.abort(new Error('the mediator answered before the request was sent'));
    if (bytes === undefined)
      throw new DelegationRefusedError('internal', 'the mediator closed without answering');
    return decodeReply(bytes);
  });
}

/** Dial options: the stream may also run over a relayed connection (the messages are small). */
function dialOptions(signal: AbortSignal): { signal: AbortSignal } {
  const options = { signal, runOnLimitedConnection: true };
  return options;
}

export interface MandateGrant {
  /** Unix seconds (chain time) after which the mandate is void. */
  expiry: bigint;
  /** The market's allowance before, and what was added to it for the budget. */
  allowance: bigint;
  raisedBy: bigint;
  /** The owner's token balance: repairs fail once it is spent, whatever the budget. */
  balance: bigint;
}

/**
 * The owner's side of a mandate: lets `mediator` spend up to `budget` of the signer's tokens on
 * repair deals for `days` (replacing any earlier mandate to it), and raises the market's
 * allowance by what the new budget adds to the old one, on top of the current allowance (a paid
 * put's permit or another mediator's budget is not wiped).
 */
export async function grantMandate(
  signer: ChainSigner,
  mediator: Address,
  budget: bigint,
  days: number,
): Promise<MandateGrant> {
  if (budget <= 0n) throw new RangeError('the budget must be positive (revokeMandate to end one)');
  if (!(days > 0)) throw new RangeError('days must be positive');
  const [old, allowance, balance, now] = await Promise.all([
    getMandate(signer, signer.account, mediator),
    tokenAllowance(signer, signer.account),
    tokenBalance(signer, signer.account),
    chainNow(signer),
  ]);
  const expiry = now + BigInt(Math.round(days * 86_400));
  await setMandate(signer, mediator, { budget, expiry });
  const raisedBy = budget > old.budget ? budget - old.budget : 0n;
  if (raisedBy > 0n) await approveMarket(signer, allowance + raisedBy);
  return { expiry, allowance, raisedBy, balance };
}

export interface MediatorInfo {
  chainId: number;
  market: Address;
  /** The mediator's wallet: the address a mandate names. */
  wallet: Address;
  /** Files it holds now (from all owners). */
  files: number;
}

/** Asks a mediator for its wallet and chain (to grant it a mandate). */
export async function mediatorInfo(
  node: Pick<CairnNode, 'dialProtocol'>,
  mediator: MediatorTarget,
  options: DelegationClientOptions = {},
): Promise<MediatorInfo> {
  const signal = AbortSignal.any([
    AbortSignal.timeout(options.timeoutMs ?? 30_000),
    ...(options.signal ? [options.signal] : []),
  ]);
  const stream = await node.dialProtocol(
    target(mediator),
    MEDIATOR_INFO_PROTOCOL,
    dialOptions(signal),
  );
  return _withStream(stream, signal, async () => {
    await stream.close({ signal });
    const bytes = await new _FrameReader(stream).next(MAX_RESPONSE_SIZE);
    if (bytes === undefined) throw new DriveError('the mediator closed without answering');
    const r = new _Reader(bytes);
    const version = r.byte();
    if (version !== DELEGATION_VERSION)
      throw new DriveError(`mediator info version ${version} is not supported`);
    const info = {
      chainId: r.uint(),
      market: addressOf(r.bytes(20)),
      wallet: addressOf(r.bytes(20)),
      files: r.uint(),
    };
    r.end();
    return info;
  });
}

// ---------------------------------------------------------------- mediator side

/** A delegated file as the book holds it: the Mediator's view plus what it was accepted from. */
export interface HeldFile extends DelegatedFile {
  issuedAt: number;
  /** The signed request it was accepted from (hex in snapshots). */
  request: Uint8Array;
}

/** What a book persists (JSON). */
export interface DelegationBookSnapshot {
  version: 1;
  files: {
    client: Address;
    id: string;
    issuedAt: number;
    /** hex of the signed request */
    request: string;
    /** the current placements (updated by repairs): deal ids as decimal text */
    placements: { shard: number; host: string; dealId?: string }[];
  }[];
  /** (client, id) withdrawn, and when: an older delegation of it is stale. */
  withdrawn: { client: Address; id: string; issuedAt: number }[];
}

export interface DelegationBookInit {
  /** Called with the book's state after every change; an acceptance waits for it. */
  persist?: (snapshot: DelegationBookSnapshot) => Promise<void>;
  /** Files held at most (all owners). @default 10_000 */
  maxFiles?: number;
}

const keyOf = (client: string, id: string): string => `${client.toLowerCase()} ${id}`;

/**
 * The files a mediator holds, by (client, id), with the withdrawn ones' marks; what the
 * `Mediator` reads every round (`files()`) and what survives a restart (`snapshot`, `load`).
 */
export class DelegationBook {
  readonly #files = new Map<string, HeldFile>();
  readonly #withdrawn = new Map<string, { client: Address; id: string; issuedAt: number }>();
  readonly #init: DelegationBookInit;
  #saving: Promise<void> = Promise.resolve();

  constructor(init: DelegationBookInit = {}) {
    this.#init = init;
  }

  /** A book from a snapshot: every request is verified again, the placements kept as saved. */
  static async load(
    snapshot: DelegationBookSnapshot,
    init: DelegationBookInit = {},
  ): Promise<DelegationBook> {
    const book = new DelegationBook(init);
    if (snapshot.version !== 1) throw new DriveError(`delegation book version ${snapshot.version}`);
    for (const w of snapshot.withdrawn) book.#withdrawn.set(keyOf(w.client, w.id), { ...w });
    for (const f of snapshot.files) {
      const { delegation } = await verifyDelegation(fromHex(f.request));
      book.#files.set(keyOf(delegation.client, delegation.id), {
        id: delegation.id,
        client: delegation.client,
        set: delegation.set!,
        issuedAt: delegation.issuedAt,
        request: fromHex(f.request),
        placements: f.placements.map((p) => ({
          shard: p.shard,
          host: p.host,
          ...(p.dealId !== undefined ? { dealId: BigInt(p.dealId) } : {}),
        })),
      });
    }
    return book;
  }

  get size(): number {
    return this.#files.size;
  }

  /** The held files (live objects: the Mediator updates their placements). */
  files(): HeldFile[] {
    return [...this.#files.values()];
  }

  get(client: Address, id: string): HeldFile | undefined {
    return this.#files.get(keyOf(client, id));
  }

  /** The latest `issuedAt` seen for (client, id): held or withdrawn. */
  latest(client: Address, id: string): number | undefined {
    const key = keyOf(client, id);
    return this.#files.get(key)?.issuedAt ?? this.#withdrawn.get(key)?.issuedAt;
  }

  /** Applies a verified delegation (stale ones refused), then persists. */
  async apply(signed: SignedDelegation): Promise<DelegationResult> {
    const d = signed.delegation;
    const key = keyOf(d.client, d.id);
    const latest = this.latest(d.client, d.id);
    if (latest !== undefined && d.issuedAt <= latest)
      throw new DelegationRefusedError(
        'stale',
        `a delegation of ${d.id} issued at ${new Date(latest).toISOString()} or later is already applied`,
      );
    const held = this.#files.has(key);
    let result: DelegationResult;
    if (d.kind === 'withdraw') {
      this.#files.delete(key);
      this.#withdrawn.set(key, { client: d.client, id: d.id, issuedAt: d.issuedAt });
      result = held ? 'withdrawn' : 'not-held';
    } else {
      if (!held && this.#files.size >= (this.#init.maxFiles ?? 10_000))
        throw new DelegationRefusedError('full', 'this mediator holds as many files as it takes');
      this.#withdrawn.delete(key);
      this.#files.set(key, {
        id: d.id,
        client: d.client,
        set: d.set!,
        placements: d.placements.map((p) => ({ ...p })),
        issuedAt: d.issuedAt,
        request: signed.request,
      });
      result = held ? 'updated' : 'accepted';
    }
    await this.save();
    return result;
  }

  /** Persists the current state (after a repair updated placements); saves run one at a time. */
  save(): Promise<void> {
    const persist = this.#init.persist;
    if (persist === undefined) return Promise.resolve();
    const next = this.#saving.catch(() => {}).then(() => persist(this.snapshot()));
    this.#saving = next;
    return next;
  }

  snapshot(): DelegationBookSnapshot {
    return {
      version: 1,
      files: [...this.#files.values()].map((f) => ({
        client: f.client,
        id: f.id,
        issuedAt: f.issuedAt,
        request: toHex(f.request),
        placements: f.placements.map((p) => ({
          shard: p.shard,
          host: p.host,
          ...(p.dealId !== undefined ? { dealId: p.dealId.toString() } : {}),
        })),
      })),
      withdrawn: [...this.#withdrawn.values()].map((w) => ({ ...w })),
    };
  }
}

export type DelegationEvent =
  | { type: 'accepted'; result: DelegationResult; file: Delegation; peer: string }
  | { type: 'refused'; error: DelegationRefusedError; peer: string; client?: Address; id?: string };

export interface DelegationProtocolInit {
  /** Reads mandates and deals. */
  reader: ChainReader;
  /** The mediator's wallet (what mandates name). */
  wallet: Address;
  book: DelegationBook;
  onEvent?: (event: DelegationEvent) => void;
  /** Each inbound exchange is cut after this long. @default 30_000 */
  timeoutMs?: number;
  /** The clock (unix ms), for tests. */
  now?: () => number;
  /** Concurrent inbound streams per connection. @default 2 */
  maxInboundStreams?: number;
}

/** Checks a verified delegation against this mediator, the clock and the chain. */
async function admit(init: DelegationProtocolInit, d: Delegation): Promise<void> {
  const { reader, wallet } = init;
  if (d.mediator.toLowerCase() !== wallet.toLowerCase() || d.chainId !== reader.config.chainId)
    throw new DelegationRefusedError(
      'wrong-mediator',
      `the delegation names mediator ${d.mediator} on chain ${d.chainId}; this is ${wallet} on chain ${reader.config.chainId}`,
    );
  const now = (init.now ?? Date.now)();
  if (d.issuedAt > now + MAX_DELEGATION_SKEW_MS)
    throw new DelegationRefusedError(
      'stale',
      `issued at ${new Date(d.issuedAt).toISOString()}, in the future (check the clock)`,
    );
  if (d.issuedAt < now - MAX_DELEGATION_AGE_MS)
    throw new DelegationRefusedError(
      'stale',
      `issued at ${new Date(d.issuedAt).toISOString()}, more than ${MAX_DELEGATION_AGE_MS / 60_000} min ago`,
    );
  const latest = init.book.latest(d.client, d.id);
  if (latest !== undefined && d.issuedAt <= latest)
    throw new DelegationRefusedError('stale', `a later delegation of ${d.id} is already applied`);
  if (d.kind === 'withdraw') return;
  const [mandate, block] = await Promise.all([
    getMandate(reader, d.client, wallet),
    reader.publicClient.getBlock(),
  ]);
  if (mandate.budget === 0n || mandate.expiry < block.timestamp)
    throw new DelegationRefusedError(
      'no-mandate',
      mandate.budget === 0n
        ? `${d.client} has granted ${wallet} no mandate (no budget on chain): set one first (setMandate)`
        : `${d.client}'s mandate to ${wallet} expired at ${new Date(Number(mandate.expiry) * 1000).toISOString()}`,
    );
  // Every deal named must be the client's, on the root of its shard.
  const withDeals = d.placements.filter((p) => p.dealId !== undefined);
  if (withDeals.length === 0)
    throw new DelegationRefusedError('wrong-deals', 'no placement names a deal');
  const deals = await Promise.all(withDeals.map((p) => getDeal(reader, p.dealId!)));
  withDeals.forEach((p, i) => {
    const deal = deals[i]!;
    if (deal.status === DealStatus.None)
      throw new DelegationRefusedError('wrong-deals', `deal ${p.dealId} does not exist`);
    if (deal.client.toLowerCase() !== d.client.toLowerCase())
      throw new DelegationRefusedError(
        'wrong-deals',
        `deal ${p.dealId} is ${deal.client}'s, not ${d.client}'s`,
      );
    if (deal.root.toLowerCase() !== `0x${toHex(d.set!.roots[p.shard]!)}`)
      throw new DelegationRefusedError(
        'wrong-deals',
        `deal ${p.dealId} is not on shard ${p.shard}'s root`,
      );
  });
}

function refusalOf(err: unknown): DelegationRefusedError {
  if (err instanceof DelegationRefusedError) return err;
  if (err instanceof MessageTooLargeError)
    return new DelegationRefusedError(
      'too-large',
      `a delegation is at most ${MAX_DELEGATION_SIZE} bytes: ${err.message}`,
    );
  const e = err as Error;
  if (e?.name === 'MalformedMessageError' || e?.name === 'UnexpectedEndOfStreamError')
    return new DelegationRefusedError('malformed', `malformed delegation: ${e.message}`);
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError')
    return new DelegationRefusedError('timeout', 'the delegation did not arrive in time');
  return new DelegationRefusedError(
    'internal',
    `the mediator failed: ${e?.message ?? String(err)}`,
  );
}

/**
 * Serves `/cairn/mediator/delegate/1.0.0` and `/cairn/mediator/info/1.0.0` on `node`: verifies
 * each delegation (signature, this mediator and chain, the clock, staleness, a live mandate, the
 * deals), applies it to the book and answers; every refusal is answered with its code and
 * reason (and reported through `onEvent`). The handlers never throw.
 */
export async function handleDelegationProtocol(
  node: Pick<CairnNode, 'handle' | 'unhandle'>,
  init: DelegationProtocolInit,
): Promise<{ stop(): Promise<void> }> {
  const timeout = init.timeoutMs ?? 30_000;
  const options = { runOnLimitedConnection: true, maxInboundStreams: init.maxInboundStreams ?? 2 };
  const onDelegate = async (stream: Stream, connection: Connection): Promise<void> => {
    const signal = AbortSignal.timeout(timeout);
    const peer = connection.remotePeer.toString();
    let d: Delegation | undefined;
    try {
      await _withStream(stream, signal, async () => {
        let reply: Uint8Array;
        try {
          const request = await new _FrameReader(stream).next(MAX_DELEGATION_SIZE);
          if (request === undefined)
            throw new DelegationRefusedError('malformed', 'no delegation was sent');
          const signed = await verifyDelegation(request);
          d = signed.delegation;
          await admit(init, d);
          const result = await init.book.apply(signed);
          init.onEvent?.({ type: 'accepted', result, file: d, peer });
          reply = encodeReply({ ok: true, result, message: '' });
        } catch (err) {
          const refusal = refusalOf(err);
          if (refusal.code === 'timeout') throw err;
          init.onEvent?.({
            type: 'refused',
            error: refusal,
            peer,
            ...(d ? { client: d.client, id: d.id } : {}),
          });
          reply = encodeReply(refusal);
        }
        await _writeFrame(stream, reply, { signal });
        await stream.close({ signal });
      });
    } catch {
      // Cut by the timeout (or the owner went away): nothing to answer.
      if (signal.aborted)
        init.onEvent?.({ type: 'refused', error: refusalOf(signal.reason), peer });
    }
  };
  const onInfo = async (stream: Stream): Promise<void> => {
    const signal = AbortSignal.timeout(timeout);
    try {
      await _withStream(stream, signal, async () => {
        const info = new _Writer()
          .byte(DELEGATION_VERSION)
          .uint(init.reader.config.chainId)
          .bytes(address20(init.reader.config.market))
          .bytes(address20(init.wallet))
          .uint(init.book.size)
          .finish();
        await _writeFrame(stream, info, { signal });
        await stream.close({ signal });
      });
    } catch {
      // the asker went away
    }
  };
  await node.handle(DELEGATE_PROTOCOL, onDelegate, options);
  await node.handle(MEDIATOR_INFO_PROTOCOL, onInfo, options);
  return {
    async stop() {
      await node.unhandle(DELEGATE_PROTOCOL);
      await node.unhandle(MEDIATOR_INFO_PROTOCOL);
    },
  };
}
