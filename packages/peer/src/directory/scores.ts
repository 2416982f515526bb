import type { AbortOptions, Connection, Stream } from '@libp2p/interface';
import {
  DEFAULT_STREAM_TIMEOUT_MS,
  MAX_EVIDENCE_COUNT,
  MAX_EVIDENCE_LATENCY_MS,
  MAX_SCORES_PEERS,
  MAX_SCORES_REQUEST_SIZE,
  MAX_SCORES_RESPONSE_SIZE,
  SCORES_PROTOCOL,
} from './constants.ts';
import { _Reader, _Writer } from './encoding.ts';
import { MalformedMessageError, UnexpectedEndOfStreamError } from './errors.ts';
import { _FrameReader, _withStream, _writeFrame } from './frames.ts';
import type {
  DirectoryClientNode,
  DirectoryClientOptions,
  DirectoryPeer,
  DirectoryServerNode,
} from './protocol.ts';

// `/cairn/directory/scores/1.0.0`: what a relay has observed of hosts by auditing them. Unlike
// the records, which the hosts sign, this is the relay's own (unsigned) opinion, attributable
// only to the relay at the other end of the (Noise-authenticated) stream; clients weigh it below
// their own observations. Wire messages, one frame each:
//
//   client -> server: varint(n) n × string(peerId)                 n <= 100, frame <= 32 KiB
//   server -> client: varint(m) m × entry, then closes              m <= n,   frame <= 32 KiB
//   entry = string(peerId)
//           varint answered  varint passed  varint failed  varint unreachable   (thousandths)
//           varint latency   (ms + 1; 0 = unknown)
//           varint answeringForMs

/**
 * One observer's decayed tally of a host: how often it answered, proved, failed to prove or
 * could not be reached, recently weighted more (the observer's own decay). Counts are
 * non-negative reals, carried in thousandths.
 */
export interface HostEvidence {
  peerId: string;
  /** Liveness probes (ping) answered: up, but no storage proven. */
  answered: number;
  /** Storage audits passed: fresh nonce, every leaf proved against the root, signed. */
  passed: number;
  /** Storage audits the host answered without a valid proof (wrong leaf, shard missing...). */
  failed: number;
  /** Probes and audits with no answer in time (gone, offline, unreachable). */
  unreachable: number;
  /** Smoothed response time, when known. */
  latencyMs?: number;
  /** How long the host has been seen answering without an outage (0: not answering now). */
  answeringForMs: number;
}

/** Answers a scores request: evidence for those of `peerIds` the server knows. */
export type EvidenceSource = (peerIds: string[]) => HostEvidence[];

export interface ScoresProtocolInit {
  /** Each inbound stream is reset after this long. @default 10000 */
  timeout?: number;
  /** Concurrent inbound streams per connection. @default 4 */
  maxInboundStreams?: number;
  /** A stream that failed; the handler itself never throws. */
  onError?(err: Error, connection: Connection): void;
}

function encodeCount(w: _Writer, value: number, name: string): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be >= 0`);
  w.uint(Math.round(Math.min(value, MAX_EVIDENCE_COUNT) * 1000));
}

function decodeCount(r: _Reader): number {
  const milli = r.uint();
  if (milli > MAX_EVIDENCE_COUNT * 1000)
    throw new MalformedMessageError('evidence count out of range');
  return milli / 1000;
}

function peerList(peerIds: Iterable<string>): string[] {
  const peers = [...new Set(peerIds)];
  if (peers.length > MAX_SCORES_PEERS)
    throw new RangeError(`ask for at most ${MAX_SCORES_PEERS} peers`);
  return peers;
}

export function _encodeScoresRequest(peerIds: Iterable<string>): Uint8Array {
  const peers = peerList(peerIds);
  const w = new _Writer().uint(peers.length);
  for (const p of peers) w.string(p);
  return w.finish();
}

export function _decodeScoresRequest(bytes: Uint8Array): string[] {
  const r = new _Reader(bytes);
  const n = r.uint();
  if (n > MAX_SCORES_PEERS)
    throw new MalformedMessageError(`more than ${MAX_SCORES_PEERS} peers asked for`);
  const peers: string[] = [];
  for (let i = 0; i < n; i++) peers.push(r.string(128));
  r.end();
  if (new Set(peers).size !== peers.length) throw new MalformedMessageError('duplicate peer');
  return peers;
}

export function _encodeScoresResponse(entries: readonly HostEvidence[]): Uint8Array {
  if (entries.length > MAX_SCORES_PEERS)
    throw new RangeError(`at most ${MAX_SCORES_PEERS} entries`);
  const w = new _Writer().uint(entries.length);
  for (const e of entries) {
    w.string(e.peerId);
    encodeCount(w, e.answered, 'answered');
    encodeCount(w, e.passed, 'passed');
    encodeCount(w, e.failed, 'failed');
    encodeCount(w, e.unreachable, 'unreachable');
    const latency = e.latencyMs;
    w.uint(
      latency === undefined || !Number.isFinite(latency) || latency < 0
        ? 0
        : Math.round(Math.min(latency, MAX_EVIDENCE_LATENCY_MS)) + 1,
    );
    const tenure = Math.round(e.answeringForMs);
    w.uint(Number.isSafeInteger(tenure) && tenure > 0 ? tenure : 0);
  }
  return w.finish();
}

export function _decodeScoresResponse(bytes: Uint8Array): HostEvidence[] {
  const r = new _Reader(bytes);
  const n = r.uint();
  if (n > MAX_SCORES_PEERS)
    throw new MalformedMessageError(`more than ${MAX_SCORES_PEERS} entries`);
  const out: HostEvidence[] = [];
  for (let i = 0; i < n; i++) {
    const peerId = r.string(128);
    const answered = decodeCount(r);
    const passed = decodeCount(r);
    const failed = decodeCount(r);
    const unreachable = decodeCount(r);
    const latency = r.uint();
    if (latency > MAX_EVIDENCE_LATENCY_MS + 1)
      throw new MalformedMessageError('latency out of range');
    const answeringForMs = r.uint();
    out.push({
      peerId,
      answered,
      passed,
      failed,
      unreachable,
      ...(latency > 0 ? { latencyMs: latency - 1 } : {}),
      answeringForMs,
    });
  }
  r.end();
  return out;
}

/**
 * Serve `/cairn/directory/scores/1.0.0` from `source` (a relay's score keeper). Runs on limited
 * connections too, like the directory protocols.
 */
export async function handleScoresProtocol(
  node: DirectoryServerNode,
  source: EvidenceSource,
  init: ScoresProtocolInit = {},
): Promise<{ stop(): Promise<void> }> {
  const timeout = init.timeout ?? DEFAULT_STREAM_TIMEOUT_MS;
  const onStream = async (stream: Stream, connection: Connection): Promise<void> => {
    const signal = AbortSignal.timeout(timeout);
    try {
      await _withStream(stream, signal, async () => {
        const request = await new _FrameReader(stream).next(MAX_SCORES_REQUEST_SIZE);
        if (request == null) throw new UnexpectedEndOfStreamError('no scores request');
        const asked = _decodeScoresRequest(request);
        const wanted = new Set(asked);
        const seen = new Set<string>();
        const entries = source(asked).filter((e) => {
          if (!wanted.has(e.peerId) || seen.has(e.peerId)) return false;
          seen.add(e.peerId);
          return true;
        });
        await _writeFrame(stream, _encodeScoresResponse(entries), { signal });
        await stream.close({ signal });
      });
    } catch (err) {
      init.onError?.(err as Error, connection);
    }
  };
  await node.handle(SCORES_PROTOCOL, onStream, {
    runOnLimitedConnection: true,
    maxInboundStreams: init.maxInboundStreams ?? 4,
  });
  return {
    async stop() {
      await node.unhandle(SCORES_PROTOCOL);
    },
  };
}

/**
 * Ask a directory (a relay that audits hosts) what it has observed of `peerIds`. Entries for
 * hosts not asked about, or a second entry for one host, make the answer malformed. A relay
 * that does not serve the protocol fails the call (libp2p's UnsupportedProtocolError).
 */
export async function queryScores(
  node: DirectoryClientNode,
  directoryPeer: DirectoryPeer,
  peerIds: Iterable<string>,
  options: DirectoryClientOptions & AbortOptions = {},
): Promise<HostEvidence[]> {
  const peers = peerList(peerIds);
  if (peers.length === 0) return [];
  const signal =
    options.signal ?? AbortSignal.timeout(options.timeout ?? DEFAULT_STREAM_TIMEOUT_MS);
  const stream = await node.dialProtocol(directoryPeer, SCORES_PROTOCOL, {
    signal,
    runOnLimitedConnection: true,
  });
  return _withStream(stream, signal, async () => {
    await _writeFrame(stream, _encodeScoresRequest(peers), { signal });
    await stream.close({ signal });
    const reader = new _FrameReader(stream);
    const bytes = await reader.next(MAX_SCORES_RESPONSE_SIZE);
    if (bytes == null) throw new UnexpectedEndOfStreamError('directory closed without answering');
    const entries = _decodeScoresResponse(bytes);
    if ((await reader.next(MAX_SCORES_RESPONSE_SIZE)) !== undefined)
      throw new MalformedMessageError('directory sent more than one scores frame');
    const wanted = new Set(peers);
    const seen = new Set<string>();
    for (const e of entries) {
      if (!wanted.has(e.peerId) || seen.has(e.peerId))
        throw new MalformedMessageError(`unexpected scores entry for ${e.peerId}`);
      seen.add(e.peerId);
    }
    return entries;
  });
}
