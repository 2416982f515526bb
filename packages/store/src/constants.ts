/** Largest `meta` record kept beside a shard. */
export const MAX_META_BYTES = 4096;

/** Default chunk yielded by `stream()`: one piece at the codec's default piece size. */
export const DEFAULT_STREAM_CHUNK = 256 * 1024;

/** A shard id: the lower-case hex of a 32-byte Merkle root. Nothing else can name a path. */
export const SHARD_ID_PATTERN = /^[0-9a-f]{64}$/;
