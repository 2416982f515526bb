/** Default leaf size of shard Merkle trees (bytes); recorded in each manifest. See README.md. */
export const MERKLE_LEAF_SIZE = 1024;
