/**
 * Files by link, over the network: `putFile` uploads to hosts from the directory and publishes
 * the file record on them, returning a share link; `getFile` resolves a link back to the file's
 * manifest and a stream of its plaintext. The key travels only in the link's fragment.
 */
import {
  decodeShareLink,
  encodeShareLink,
  equalBytes,
  MERKLE_LEAF_SIZE,
  toHex,
  type ByteSource,
  type Manifest,
} from '@cairn/codec';
import { encodeDealRef, paidDeals, type PaidUploadInit } from './deals.ts';
import { download, type DownloadOptions } from './download.ts';
import type { ChainReader } from '@cairn/contracts';
import { followRepairs } from './follow.ts';
import { DriveError, NotEnoughHostsError } from './errors.ts';
import type { CairnNetwork } from './network.ts';
import {
  InvalidRecordError,
  MAX_LINK_HINTS,
  decodeManifestRef,
  encodeFileRecord,
  encodeManifestRef,
  openFileRecord,
  recordRoot,
  type FileRecord,
} from './record.ts';
import type { Placement } from './types.ts';
import { upload, type UploadOptions, type UploadResult } from './upload.ts';

export interface PutFileOptions extends Omit<UploadOptions, 'hosts' | 'transport' | 'deals'> {
  /**
   * Pay for the storage: quotes from the hosts, every deal opened in one transaction, shards sent
   * only then. Without it, hosts that store for free (no admission) take the file.
   */
  paid?: Omit<PaidUploadInit, 'network' | 'wallets'>;
  /** Base of the link, e.g. `https://relay.example/`. The fragment is appended. @default '' */
  baseUrl?: string;
  /** Ping candidate hosts first and prefer the closest. @default true */
  probe?: boolean;
}

export interface PutFileResult extends UploadResult {
  /** `baseUrl#fragment`: whoever holds it can fetch and decrypt the file. */
  link: string;
  /** Where the file record is (its root and the hosts holding it). */
  recordRoot: Uint8Array;
}

/** The record could not be stored on any host. */
export class PublishFailedError extends DriveError {
  override name = 'PublishFailedError' as const;
}

/** No host named in the link served a record that verifies. */
export class RecordUnavailableError extends DriveError {
  override name = 'RecordUnavailableError' as const;
}

export async function putFile(
  network: CairnNetwork,
  open: () => ByteSource,
  options: PutFileOptions = {},
): Promise<PutFileResult> {
  const { signal } = options;
  let hosts = await network.hosts({}, signal);
  if (options.probe ?? true) hosts = await network.probe(hosts, signal);
  if (hosts.length === 0) throw new NotEnoughHostsError('no reachable host is listed');
  const wallets = new Map(
    hosts.flatMap((h) => (h.wallet ? [[h.peerId, h.wallet as `0x${string}`] as const] : [])),
  );
  const result = await upload(open, {
    ...options,
    hosts,
    transport: network,
    ...(options.paid ? { deals: paidDeals({ ...options.paid, network, wallets }) } : {}),
  });
  const published = await publishRecord(network, { ...result, ...(signal ? { signal } : {}) });
  return {
    ...result,
    link: `${options.baseUrl ?? ''}#${published.fragment}`,
    recordRoot: published.root,
  };
}

/**
 * Stores a file's record (sealed manifest + sealed placements) on its shards' holders (riding on
 * their deals when paid) and returns the share link's fragment naming those that took it.
 */
export async function publishRecord(
  network: CairnNetwork,
  file: {
    sealedManifest: Uint8Array;
    placements: readonly Placement[];
    fileKey: Uint8Array;
    signal?: AbortSignal;
  },
): Promise<{ fragment: string; root: Uint8Array }> {
  const record = await encodeFileRecord(file.sealedManifest, [...file.placements], file.fileKey);
  const root = recordRoot(record);
  const holders = [...new Map(file.placements.map((p) => [p.host, p])).values()];
  const stored = await Promise.allSettled(
    holders.map(({ host, dealId }) =>
      network.putShard(
        host,
        {
          shardId: toHex(root),
          size: record.byteLength,
          leafSize: MERKLE_LEAF_SIZE,
          ...(dealId !== undefined ? { deal: encodeDealRef('record', dealId) } : {}),
        },
        once(record),
        { signal: file.signal ?? AbortSignal.timeout(60_000) },
      ),
    ),
  );
  const hints = holders
    .filter((_, i) => stored[i]!.status === 'fulfilled')
    .map((p) => p.host)
    .slice(0, MAX_LINK_HINTS);
  if (hints.length === 0)
    throw new PublishFailedError('no host took the file record', {
      cause: new AggregateError(
        stored.map((s) => (s.status === 'rejected' ? s.reason : undefined)),
      ),
    });
  const fragment = encodeShareLink({
    manifestRef: encodeManifestRef({ root, size: record.byteLength, hints }),
    fileKey: file.fileKey,
  });
  return { fragment, root };
}

export interface OpenedFile extends FileRecord {
  fileKey: Uint8Array;
}

/** Resolves a share link (or its fragment) to the file's record, checked and opened. */
export async function openLink(
  network: CairnNetwork,
  link: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<OpenedFile> {
  const { manifestRef, fileKey } = decodeShareLink(link);
  const ref = decodeManifestRef(manifestRef);
  const signal = options.signal ?? AbortSignal.timeout(options.timeoutMs ?? 30_000);
  await network.locate(ref.hints, signal).catch(() => {});
  const errors: unknown[] = [];
  // Ask the hinted hosts together; the first record that verifies wins.
  const controller = new AbortController();
  const both = AbortSignal.any([signal, controller.signal]);
  const record = await new Promise<Uint8Array | undefined>((resolve) => {
    let pending = ref.hints.length;
    for (const host of ref.hints) {
      network
        .getSmall(host, ref.root, ref.size, both)
        .then((bytes) => {
          if (!equalBytes(recordRoot(bytes), ref.root))
            throw new InvalidRecordError(`host ${host} served a record that does not match`);
          controller.abort();
          resolve(bytes);
        })
        .catch((err: unknown) => {
          errors.push(err);
          if (--pending === 0) resolve(undefined);
        });
    }
  });
  if (record === undefined)
    throw new RecordUnavailableError(
      `none of the ${ref.hints.length} hosts named in the link served the file record`,
      { cause: new AggregateError(errors) },
    );
  return { ...(await openFileRecord(record, fileKey)), fileKey };
}

export interface GetFileResult {
  manifest: Manifest;
  placements: Placement[];
  /** The plaintext, verified segment by segment. */
  body: AsyncGenerator<Uint8Array>;
}

export interface GetFileOptions extends DownloadOptions {
  /**
   * Reads the file's deals: shards whose recorded deal is no longer active are fetched from
   * where a repair put them (`followRepairs`), so an old link outlives its hosts.
   */
  reader?: ChainReader;
}

export async function getFile(
  network: CairnNetwork,
  link: string,
  options: GetFileOptions = {},
): Promise<GetFileResult> {
  const opened = await openLink(network, link, options.signal ? { signal: options.signal } : {});
  // A chain that cannot be read leaves the link's own placements (enough while k hosts live).
  const placements = options.reader
    ? await followRepairs(options.reader, opened).catch(() => opened.placements)
    : opened.placements;
  await network
    .locate(
      placements.map((p) => p.host),
      options.signal ?? AbortSignal.timeout(30_000),
    )
    .catch(() => {});
  return {
    manifest: opened.manifest,
    placements,
    body: download(opened.manifest, opened.fileKey, placements, network, options),
  };
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
