/** Protocol ids. The version is part of the id: an incompatible change gets a new id. */
export const PUT_PROTOCOL = '/cairn/shard/put/1.0.0';
export const GET_PROTOCOL = '/cairn/shard/get/1.0.0';
export const AUDIT_PROTOCOL = '/cairn/audit/1.0.0';
/** Terms in, a host-signed quote out (the bytes are the market layer's; see `HostServiceInit.quoter`). */
export const QUOTE_PROTOCOL = '/cairn/quote/1.0.0';
/** Largest quote request or answer. */
export const MAX_QUOTE_SIZE = 4096;
export const DEFAULT_QUOTE_TIMEOUT_MS = 15_000;

/** Largest control frame (requests, response headers, receipts). */
export const MAX_CONTROL_FRAME = 8 * 1024;
/** Largest audit response frame: MAX_AUDIT_LEAVES leaves of <= 4 KiB plus proofs. */
export const MAX_AUDIT_RESPONSE_FRAME = 160 * 1024;
/** Most bytes one get request may ask for (pieces are at most 4 MiB). */
export const MAX_GET_LENGTH = 4 * 1024 * 1024;
/** Most leaves one audit may ask for. */
export const MAX_AUDIT_LEAVES = 16;
/** Opaque deal bytes a put may carry. */
export const MAX_DEAL_SIZE = 2048;
/** Largest shard a host accepts unless configured otherwise (4 GiB). */
export const DEFAULT_MAX_SHARD_SIZE = 4 * 1024 ** 3;
/** Bytes per `send` when streaming shard bytes (fewer calls than the 16 KiB data-channel message). */
export const CHUNK_SIZE = 256 * 1024;
/**
 * The host caches its shards' Merkle levels from this many bytes of subtree upwards (1/2048 of
 * the shard at 32 bytes a node) and rehashes at most one such block per proof below it.
 */
export const PROOF_BLOCK_BYTES = 64 * 1024;

/** Whole-operation timeouts used when the caller passes no signal. */
export const DEFAULT_PUT_TIMEOUT_MS = 300_000;
export const DEFAULT_GET_TIMEOUT_MS = 60_000;
export const DEFAULT_AUDIT_TIMEOUT_MS = 30_000;
/** Longest wait for the next bytes (or for the send buffer to drain) within an operation. */
export const DEFAULT_IDLE_TIMEOUT_MS = 20_000;

/** Signature domains: a receipt or audit signature can never be replayed as the other. */
export const RECEIPT_DOMAIN = 'cairn/receipt/1';
export const AUDIT_DOMAIN = 'cairn/audit/1';
