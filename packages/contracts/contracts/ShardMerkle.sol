// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Verifier for Cairn shard Merkle proofs (`sha256-v1`, packages/codec/src/merkle/README.md)
/// @notice leafHash = sha256(0x00 || leaf) with the leaf exactly `leafSize` bytes;
/// nodeHash = sha256(0x01 || left || right); bit l of the index says whether the running node is
/// the right child at level l; the proof is exactly ceil(log2(leafCount)) siblings, bottom-up,
/// concatenated (32 bytes each, an absent sibling is 32 zero bytes). The fixed length and the
/// index bits bind the leaf's position, which a sorted-pair proof would not.
library ShardMerkle {
    /// @dev ceil(log2(leafCount)); 0 for a single leaf.
    function height(uint256 leafCount) internal pure returns (uint256 h) {
        uint256 n = 1;
        while (n < leafCount) {
            n <<= 1;
            ++h;
        }
    }

    function verify(
        bytes32 root,
        uint256 leafCount,
        uint256 leafSize,
        uint256 index,
        bytes calldata leaf,
        bytes calldata proof
    ) internal view returns (bool ok) {
        if (leafCount == 0 || index >= leafCount || leaf.length != leafSize) return false;
        uint256 h = height(leafCount);
        if (proof.length != h * 32) return false;
        // One scratch buffer past the free-memory pointer, reused for every hash: no allocation
        // per level (abi.encodePacked would grow memory by 65 bytes per node).
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore8(ptr, 0)
            calldatacopy(add(ptr, 1), leaf.offset, leaf.length)
            if iszero(staticcall(gas(), 2, ptr, add(leaf.length, 1), 0x00, 0x20)) {
                revert(0, 0)
            }
            let node := mload(0x00)
            mstore8(ptr, 1)
            for {
                let l := 0
            } lt(l, h) {
                l := add(l, 1)
            } {
                let sibling := calldataload(add(proof.offset, shl(5, l)))
                switch and(shr(l, index), 1)
                case 0 {
                    mstore(add(ptr, 1), node)
                    mstore(add(ptr, 33), sibling)
                }
                default {
                    mstore(add(ptr, 1), sibling)
                    mstore(add(ptr, 33), node)
                }
                if iszero(staticcall(gas(), 2, ptr, 65, 0x00, 0x20)) {
                    revert(0, 0)
                }
                node := mload(0x00)
            }
            ok := eq(node, root)
        }
    }
}
