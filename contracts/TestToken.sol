// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "./ERC20.sol";

/// @title Test token
/// @notice A freely mintable ERC-20 for tests and the dev chain. Never deploy it
///         where it could be mistaken for something of value.
contract TestToken is ERC20 {
    /// @param name_ The token name.
    /// @param symbol_ The token symbol.
    constructor(string memory name_, string memory symbol_) ERC20(name_, symbol_, 18) {}

    /// @notice Create `value` tokens for `to`; anyone may call it (test use only).
    /// @param to The receiver.
    /// @param value The amount.
    function mint(address to, uint256 value) external {
        _mint(to, value);
    }
}
