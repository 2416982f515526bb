import type { AbortOptions, Connection, Libp2p, PeerId, Stream } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import { verifyAnnouncement } from './announcement.ts';
import type { SignedHostAnnouncement, VerifyAnnouncementOptions } from './announcement.ts';
import {
  ANNOUNCE_PROTOCOL,
  DEFAULT_QUERY_LIMIT,
  DEFAULT_STREAM_TIMEOUT_MS,
  MAX_ANNOUNCE_RESPONSE_SIZE,
  MAX_ANNOUNCEMENT_SIZE,
  MAX_QUERY_EXCLUDE,
  MAX_QUERY_LIMIT,
  MAX_QUERY_REQUEST_SIZE,
  QUERY_PROTOCOL,
} from './constants.ts';
import type { Directory, HostFilter, PutResult } from './directory.ts';
import { _Reader, _Writer } from './encoding.ts';
import {
  AnnouncementRejectedError,
  MalformedMessageError,
  NotOwnAnnouncementError,
  UnexpectedEndOfStreamError,
} from './errors.ts';
import { _FrameReader, _withStream, _writeFrame } from './frames.ts';

// Wire messages (each one frame, see frames.ts):
//   announce  client -> server: the signed record bytes
//             server -> client: status byte (0 added, 1 updated, 2 stale, 3 rejected), reason text
//   query     client -> server: flags byte (1 = minFreeCapacity, 2 = maxPrice), the present
//                               uint256 varints, limit varint, exclude count, peer id texts
//             server -> client: one frame per record, then the server closes its side

const STATUS: Record<PutResult | 'rejected', number> = {
  added: 0,
  updated: 1,
  stale: 2,
  rejected: 3,
};
const MAX_REASON = 256;

export interface AnnounceResponse {
  status: PutResult | 'rejected';
  reason: string;
}

export function _encodeAnnounceResponse(res: AnnounceResponse): Uint8Array {
  return new _Writer().byte(STATUS[res.status]).string(res.reason.slice(0, MAX_REASON)).finish();
}

export function _decodeAnnounceResponse(bytes: Uint8Array): AnnounceResponse {
  const r = new _Reader(bytes);
  const code = r.byte();
  const status = (Object.keys(STATUS) as AnnounceResponse['status'][]).find(
    (k) => STATUS[k] === code,
  );
  if (status == null) throw new MalformedMessageError(`unknown announce status ${code}`);
  const reason = r.string(MAX_REASON * 4);
  r.end();
  return { status, reason };
}

export function _encodeQuery(filter: HostFilter): Uint8Array {
  const exclude = [...(filter.exclude ?? [])];
  if (exclude.length > MAX_QUERY_EXCLUDE)
    throw new RangeError(`exclude at most ${MAX_QUERY_EXCLUDE} peers`);
  const peers = filter.peers == null ? undefined : [...filter.peers];
  if (peers != null && peers.length > MAX_QUERY_LIMIT)
    throw new RangeError(`ask for at most ${MAX_QUERY_LIMIT} peers`);
  const limit = filter.limit ?? DEFAULT_QUERY_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new RangeError('limit must be a non-negative integer');
  const w = new _Writer().byte(
    (filter.minFreeCapacity != null ? 1 : 0) |
      (filter.maxPrice != null ? 2 : 0) |
      (peers != null ? 4 : 0),
  );
  if (filter.minFreeCapacity != null) w.bigUint(filter.minFreeCapacity);
  if (filter.maxPrice != null) w.bigUint(filter.maxPrice);
  w.uint(Math.min(limit, MAX_QUERY_LIMIT)).uint(exclude.length);
  for (const peer of exclude) w.string(peer);
  if (peers != null) {
    w.uint(peers.length);
    for (const peer of peers) w.string(peer);
  }
  return w.finish();
}

export function _decodeQuery(bytes: Uint8Array): HostFilter {
  const r = new _Reader(bytes);
  const flags = r.byte();
  if ((flags & ~7) !== 0) throw new MalformedMessageError(`unknown query flags ${flags}`);
  const filter: HostFilter = {};
  if ((flags & 1) !== 0) filter.minFreeCapacity = r.bigUint(256);
  if ((flags & 2) !== 0) filter.maxPrice = r.bigUint(256);
  filter.limit = Math.min(r.uint(), MAX_QUERY_LIMIT);
  const count = r.uint();
  if (count > MAX_QUERY_EXCLUDE)
    throw new MalformedMessageError(`more than ${MAX_QUERY_EXCLUDE} excluded peers`);
  const exclude: string[] = [];
  for (let i = 0; i < count; i++) exclude.push(r.string(128));
  filter.exclude = exclude;
  if ((flags & 4) !== 0) {
    const n = r.uint();
    if (n > MAX_QUERY_LIMIT)
      throw new MalformedMessageError(`more than ${MAX_QUERY_LIMIT} peers asked for`);
    const peers: string[] = [];
    for (let i = 0; i < n; i++) peers.push(r.string(128));
    filter.peers = peers;
  }
  r.end();
  return filter;
}

function errorReason(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** The subset of a libp2p node the protocol handlers need. */
export type DirectoryServerNode = Pick<Libp2p, 'handle' | 'unhandle'>;

/** The subset of a libp2p node the client helpers need. */
export type DirectoryClientNode = Pick<Libp2p, 'dialProtocol'>;

/** Where a client finds a directory: a relay's peer id (already known) or its multiaddrs. */
export type DirectoryPeer = PeerId | Multiaddr | Multiaddr[];

export interface DirectoryProtocolInit {
  /** Each inbound stream is reset after this long. @default 10000 */
  timeout?: number;
  /**
   * Accept an announcement only from the peer it describes, so a third party cannot feed us
   * someone else's (old) record. Gossip between relays bypasses this; it is for direct streams.
   * @default true
   */
  requireOwnAnnouncement?: boolean;
  /** Concurrent inbound streams per connection, per protocol. @default 4 */
  maxInboundStreams?: number;
  /** Called after a verified record was offered to the directory (whatever the result). */
  onAnnouncement?(record: SignedHostAnnouncement, result: PutResult, connection: Connection): void;
  /** Called when an inbound stream fails or a record is rejected; the handler itself never throws. */
  onError?(err: Error, protocol: string, connection: Connection): void;
  /** Verification options (clock, skew) for received records. */
  verify?: VerifyAnnouncementOptions;
}

export interface DirectoryProtocols {
  /** Remove the handlers from the node. */
  stop(): Promise<void>;
}

/**
 * Serve `directory` on the announce and query protocols of `node`. Both run on limited
 * (relayed) connections, so a host that reaches the relay only through another relay can still
 * announce.
 */
export async function handleDirectoryProtocols(
  node: DirectoryServerNode,
  directory: Directory,
  init: DirectoryProtocolInit = {},
): Promise<DirectoryProtocols> {
  const timeout = init.timeout ?? DEFAULT_STREAM_TIMEOUT_MS;
  const requireOwn = init.requireOwnAnnouncement ?? true;
  const handlerOptions = {
    runOnLimitedConnection: true,
    maxInboundStreams: init.maxInboundStreams ?? 4,
  };

  const onAnnounce = async (stream: Stream, connection: Connection): Promise<void> => {
    const signal = AbortSignal.timeout(timeout);
    try {
      await _withStream(stream, signal, async () => {
        const reader = new _FrameReader(stream);
        let response: AnnounceResponse;
        try {
          const bytes = await reader.next(MAX_ANNOUNCEMENT_SIZE);
          if (bytes == null) throw new UnexpectedEndOfStreamError('no announcement');
          const record = await verifyAnnouncement(bytes, { ...init.verify, signal });
          if (requireOwn && record.peerId !== connection.remotePeer.toString()) {
            throw new NotOwnAnnouncementError(
              `${connection.remotePeer} sent the record of ${record.peerId}`,
            );
          }
          const status = directory.put(record);
          init.onAnnouncement?.(record, status, connection);
          response = { status, reason: '' };
        } catch (err) {
          if (signal.aborted) throw err;
          init.onError?.(err as Error, ANNOUNCE_PROTOCOL, connection);
          response = { status: 'rejected', reason: errorReason(err) };
        }
        await _writeFrame(stream, _encodeAnnounceResponse(response), { signal });
        await stream.close({ signal });
      });
    } catch (err) {
      init.onError?.(err as Error, ANNOUNCE_PROTOCOL, connection);
    }
  };

  const onQuery = async (stream: Stream, connection: Connection): Promise<void> => {
    const signal = AbortSignal.timeout(timeout);
    try {
      await _withStream(stream, signal, async () => {
        const request = await new _FrameReader(stream).next(MAX_QUERY_REQUEST_SIZE);
        if (request == null) throw new UnexpectedEndOfStreamError('no query');
        for (const record of directory.query(_decodeQuery(request))) {
          await _writeFrame(stream, record.bytes, { signal });
        }
        await stream.close({ signal });
      });
    } catch (err) {
      init.onError?.(err as Error, QUERY_PROTOCOL, connection);
    }
  };

  await node.handle(ANNOUNCE_PROTOCOL, onAnnounce, handlerOptions);
  try {
    await node.handle(QUERY_PROTOCOL, onQuery, handlerOptions);
  } catch (err) {
    await node.unhandle(ANNOUNCE_PROTOCOL);
    throw err;
  }
  return {
    async stop() {
      await node.unhandle(ANNOUNCE_PROTOCOL);
      await node.unhandle(QUERY_PROTOCOL);
    },
  };
}

export interface DirectoryClientOptions extends AbortOptions {
  /** Used when no signal is given. @default 10000 */
  timeout?: number;
}

function clientSignal(options: DirectoryClientOptions): AbortSignal {
  return options.signal ?? AbortSignal.timeout(options.timeout ?? DEFAULT_STREAM_TIMEOUT_MS);
}

/**
 * Send this host's signed record to a directory (a relay). Resolves with what the directory did
 * (`added`, `updated`, `stale`); throws AnnouncementRejectedError when it refused the record.
 */
export async function announce(
  node: DirectoryClientNode,
  directoryPeer: DirectoryPeer,
  record: SignedHostAnnouncement,
  options: DirectoryClientOptions = {},
): Promise<PutResult> {
  const signal = clientSignal(options);
  const stream = await node.dialProtocol(directoryPeer, ANNOUNCE_PROTOCOL, {
    signal,
    runOnLimitedConnection: true,
  });
  return _withStream(stream, signal, async () => {
    await _writeFrame(stream, record.bytes, { signal });
    await stream.close({ signal });
    const bytes = await new _FrameReader(stream).next(MAX_ANNOUNCE_RESPONSE_SIZE);
    if (bytes == null) throw new UnexpectedEndOfStreamError('directory closed without answering');
    const response = _decodeAnnounceResponse(bytes);
    if (response.status === 'rejected') throw new AnnouncementRejectedError(response.reason);
    return response.status;
  });
}

export interface QueryHostsOptions extends DirectoryClientOptions {
  verify?: VerifyAnnouncementOptions;
}

/**
 * Ask a directory for hosts matching `filter`. Every record is verified here too (a relay is
 * not trusted); records that fail verification or do not match the filter are dropped.
 */
export async function queryHosts(
  node: DirectoryClientNode,
  directoryPeer: DirectoryPeer,
  filter: HostFilter = {},
  options: QueryHostsOptions = {},
): Promise<SignedHostAnnouncement[]> {
  const signal = clientSignal(options);
  const request = _encodeQuery(filter);
  const limit = Math.min(filter.limit ?? DEFAULT_QUERY_LIMIT, MAX_QUERY_LIMIT);
  const exclude = new Set(filter.exclude ?? []);
  const wanted = filter.peers == null ? undefined : new Set(filter.peers);
  const stream = await node.dialProtocol(directoryPeer, QUERY_PROTOCOL, {
    signal,
    runOnLimitedConnection: true,
  });
  return _withStream(stream, signal, async () => {
    await _writeFrame(stream, request, { signal });
    await stream.close({ signal });
    const reader = new _FrameReader(stream);
    const records: SignedHostAnnouncement[] = [];
    const seen = new Set<string>();
    for (;;) {
      const bytes = await reader.next(MAX_ANNOUNCEMENT_SIZE);
      if (bytes == null) break;
      if (records.length >= limit)
        throw new MalformedMessageError('directory sent more records than asked');
      let record: SignedHostAnnouncement;
      try {
        record = await verifyAnnouncement(bytes, { ...options.verify, signal });
      } catch (err) {
        if (signal.aborted) throw err;
        continue;
      }
      if (seen.has(record.peerId) || exclude.has(record.peerId)) continue;
      if (wanted != null && !wanted.has(record.peerId)) continue;
      if (filter.minFreeCapacity != null && record.freeCapacity < filter.minFreeCapacity) continue;
      if (filter.maxPrice != null && record.price > filter.maxPrice) continue;
      seen.add(record.peerId);
      records.push(record);
    }
    return records;
  });
}
