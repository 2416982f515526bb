// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title Cairn token
/// @notice Fixed-supply ERC-20 with EIP-2612 permit, so deposits into the market need no
/// separate approve transaction. The whole supply goes to `holder` at deployment; there is no
/// mint function, so nothing in the token differs between a local chain and a real one (the local
/// faucet is a separate contract funded from this supply).
contract CairnToken is ERC20Permit {
    constructor(address holder, uint256 supply) ERC20("Cairn", "CAIRN") ERC20Permit("Cairn") {
        _mint(holder, supply);
    }
}
