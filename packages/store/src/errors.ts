/**
 * One error class per condition, each with a literal `name` so callers (and tests) can tell them
 * apart with `err.name` across realms and worker boundaries. Adapters translate their platform's
 * errors (ENOSPC, DOMException 'QuotaExceededError', NotFoundError) into these at the boundary
 * and attach the original as `cause`.
 */

export class StoreError extends Error {
  override name: string = 'StoreError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** No committed shard has this id. */
export class ShardNotFoundError extends StoreError {
  override name = 'ShardNotFoundError' as const;
}

/** A shard with this id is already committed, or is being written. */
export class ShardExistsError extends StoreError {
  override name = 'ShardExistsError' as const;
}

/** The shard does not fit in the store's quota, or the device/browser is out of space. */
export class QuotaExceededError extends StoreError {
  override name = 'QuotaExceededError' as const;
}

/** A shard id is not 64 lower-case hex characters (the hex of a 32-byte Merkle root). */
export class InvalidShardIdError extends StoreError {
  override name = 'InvalidShardIdError' as const;
}

/** `commit()` was called before exactly the declared number of bytes was written. */
export class IncompleteShardError extends StoreError {
  override name = 'IncompleteShardError' as const;
}

/** The writer was already committed or aborted (or failed, which aborts it). */
export class WriterClosedError extends StoreError {
  override name = 'WriterClosedError' as const;
}

/** The store was closed. */
export class StoreClosedError extends StoreError {
  override name = 'StoreClosedError' as const;
}
