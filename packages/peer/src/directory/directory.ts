import {
  DEFAULT_MAX_DIRECTORY_ENTRIES,
  DEFAULT_QUERY_LIMIT,
  MAX_QUERY_LIMIT,
} from './constants.ts';
import { verifyAnnouncement } from './announcement.ts';
import type { SignedHostAnnouncement, VerifyAnnouncementOptions } from './announcement.ts';

export interface HostFilter {
  /** Only hosts with at least this much free capacity, in bytes. */
  minFreeCapacity?: bigint;
  /** Only hosts asking at most this price. */
  maxPrice?: bigint;
  /** At most this many records (capped at MAX_QUERY_LIMIT). @default 20 */
  limit?: number;
  /** Peer ids (text) to leave out, e.g. hosts that already hold a shard of the file. */
  exclude?: Iterable<string>;
  /** Only these peer ids (text): looks up the addresses of known hosts, e.g. a file's holders. */
  peers?: Iterable<string>;
}

export interface DirectoryInit {
  /** @default 10000 */
  maxEntries?: number;
  /** Clock, for tests. @default Date.now */
  now?: () => number;
}

/** What `put` did with a record. */
export type PutResult = 'added' | 'updated' | 'stale';

/**
 * In-memory store of live host announcements: the latest record per peer (by issuedAt), expired
 * ones dropped on access, bounded in size. When full, a new host displaces the record that
 * expires soonest, so hosts that re-announce stay listed.
 */
export class Directory {
  readonly maxEntries: number;
  private readonly now: () => number;
  private readonly records = new Map<string, SignedHostAnnouncement>();

  constructor(init: DirectoryInit = {}) {
    const maxEntries = init.maxEntries ?? DEFAULT_MAX_DIRECTORY_ENTRIES;
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new RangeError('maxEntries must be a positive integer');
    }
    this.maxEntries = maxEntries;
    this.now = init.now ?? Date.now;
  }

  /** Number of records held (including any that expired since the last prune). */
  get size(): number {
    return this.records.size;
  }

  /**
   * Store a record that was already verified. A record not newer than the one held for the
   * same peer is `stale` and ignored; an expired one too.
   */
  put(record: SignedHostAnnouncement): PutResult {
    const now = this.now();
    if (record.expiresAt <= now) return 'stale';
    const held = this.records.get(record.peerId);
    if (held != null && held.expiresAt > now) {
      if (record.issuedAt <= held.issuedAt) return 'stale';
      this.records.set(record.peerId, record);
      return 'updated';
    }
    if (held == null && this.records.size >= this.maxEntries) {
      this.prune();
      if (this.records.size >= this.maxEntries) {
        const victim = this.soonestToExpire();
        if (victim == null || victim.expiresAt >= record.expiresAt) return 'stale';
        this.records.delete(victim.peerId);
      }
    }
    this.records.set(record.peerId, record);
    return held == null ? 'added' : 'updated';
  }

  /** Verify `bytes` (signature, times, size) and store the record; throws on a bad record. */
  async add(
    bytes: Uint8Array,
    options: VerifyAnnouncementOptions = {},
  ): Promise<{ result: PutResult; record: SignedHostAnnouncement }> {
    const record = await verifyAnnouncement(bytes, { now: this.now(), ...options });
    return { result: this.put(record), record };
  }

  get(peerId: string): SignedHostAnnouncement | undefined {
    const record = this.records.get(peerId);
    if (record != null && record.expiresAt <= this.now()) {
      this.records.delete(peerId);
      return undefined;
    }
    return record;
  }

  delete(peerId: string): boolean {
    return this.records.delete(peerId);
  }

  clear(): void {
    this.records.clear();
  }

  /** Drop expired records; returns how many were dropped. */
  prune(): number {
    const now = this.now();
    let dropped = 0;
    for (const [peerId, record] of this.records) {
      if (record.expiresAt <= now) {
        this.records.delete(peerId);
        dropped++;
      }
    }
    return dropped;
  }

  /** Live records matching the filter, cheapest first, then the most free capacity. */
  query(filter: HostFilter = {}): SignedHostAnnouncement[] {
    const limit = Math.min(
      Math.max(0, Math.floor(filter.limit ?? DEFAULT_QUERY_LIMIT)),
      MAX_QUERY_LIMIT,
    );
    const exclude = new Set(filter.exclude ?? []);
    const now = this.now();
    const out: SignedHostAnnouncement[] = [];
    const candidates =
      filter.peers == null
        ? this.records.values()
        : [...new Set(filter.peers)].flatMap((p) => this.records.get(p) ?? []);
    for (const record of candidates) {
      if (record.expiresAt <= now) continue;
      if (exclude.has(record.peerId)) continue;
      if (filter.minFreeCapacity != null && record.freeCapacity < filter.minFreeCapacity) continue;
      if (filter.maxPrice != null && record.price > filter.maxPrice) continue;
      out.push(record);
    }
    out.sort((a, b) =>
      a.price !== b.price
        ? a.price < b.price
          ? -1
          : 1
        : a.freeCapacity !== b.freeCapacity
          ? a.freeCapacity > b.freeCapacity
            ? -1
            : 1
          : 0,
    );
    return out.slice(0, limit);
  }

  /** All live records, in no particular order. */
  *[Symbol.iterator](): IterableIterator<SignedHostAnnouncement> {
    const now = this.now();
    for (const record of this.records.values()) if (record.expiresAt > now) yield record;
  }

  private soonestToExpire(): SignedHostAnnouncement | undefined {
    let victim: SignedHostAnnouncement | undefined;
    for (const record of this.records.values()) {
      if (victim == null || record.expiresAt < victim.expiresAt) victim = record;
    }
    return victim;
  }
}
