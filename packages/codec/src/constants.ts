/** Defaults of the codec. Each one is recorded in the manifest, so changing a default never breaks old files. */

/** Data pieces per segment (any k of k+m pieces rebuild it). */
export const DEFAULT_K = 10;
/**
 * Parity pieces per segment. Browser hosts churn far more than data-centre disks, so the default
 * carries more parity than Storj-like networks; the durability issue replaces this guess with the
 * result of a churn simulation.
 */
export const DEFAULT_M = 10;
/**
 * Bytes per erasure piece of a full segment. A power-of-two multiple of the Merkle leaf size, so
 * each piece is an aligned complete subtree of its shard's Merkle tree and can be verified on its
 * own with a short proof. The plaintext segment size follows: k * pieceSize - TAG_SIZE
 * (2.5 MiB at k = 10), so no byte is wasted aligning segments to pieces.
 */
export const DEFAULT_PIECE_SIZE = 256 * 1024;
/** Upper bound on a piece (bounds memory per segment: n pieces are in flight at once). */
export const MAX_PIECE_SIZE = 4 * 1024 * 1024;
