// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title Test-token faucet for local chains
/// @notice Hands out a fixed amount per call, at most once per `cooldown` seconds per recipient.
/// It refuses to be deployed anywhere but a local development chain (anvil's 31337 or 1337), so
/// a production deployment cannot carry one by mistake.
contract Faucet {
    using SafeERC20 for IERC20;

    IERC20 public immutable token;
    uint256 public immutable amount;
    uint256 public immutable cooldown;
    mapping(address => uint256) public lastDrip;

    event Dripped(address indexed to, uint256 amount);

    error NotLocalChain(uint256 chainId);
    error TooSoon(uint256 nextAt);

    constructor(IERC20 token_, uint256 amount_, uint256 cooldown_) {
        if (block.chainid != 31337 && block.chainid != 1337) revert NotLocalChain(block.chainid);
        token = token_;
        amount = amount_;
        cooldown = cooldown_;
    }

    function drip(address to) external {
        uint256 last = lastDrip[to];
        if (last != 0 && block.timestamp < last + cooldown) revert TooSoon(last + cooldown);
        lastDrip[to] = block.timestamp;
        token.safeTransfer(to, amount);
        emit Dripped(to, amount);
    }
}
