// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Minimal ERC-20
/// @notice The token logic shared by the bridge's vouchers and the test token.
/// @dev Written here rather than imported so the build needs nothing but solc-js.
///      Mint and burn are internal; each concrete token decides who may call them.
abstract contract ERC20 {
    /// @notice Emitted on every balance move, mints (from zero) and burns (to zero) included.
    event Transfer(address indexed from, address indexed to, uint256 value);
    /// @notice Emitted when an owner sets a spender's allowance.
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @notice The token's name.
    string public name;
    /// @notice The token's ticker symbol.
    string public symbol;
    /// @notice Decimal places of the token's display unit.
    uint8 public immutable decimals;
    /// @notice Tokens in existence.
    uint256 public totalSupply;
    /// @notice Balance of each holder.
    mapping(address => uint256) public balanceOf;
    /// @notice Remaining amount a spender may move on behalf of an owner.
    mapping(address => mapping(address => uint256)) public allowance;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
    }

    /// @notice Move `value` of the caller's tokens to `to`.
    /// @param to The recipient.
    /// @param value The amount.
    /// @return Always true (failures revert).
    function transfer(address to, uint256 value) external returns (bool) {
        _transfer(msg.sender, to, value);
        return true;
    }

    /// @notice Let `spender` move up to `value` of the caller's tokens.
    /// @param spender The account allowed to spend.
    /// @param value The new allowance (replaces the old one).
    /// @return Always true.
    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    /// @notice Move `value` tokens from `from` to `to` using the caller's allowance.
    /// @param from The owner of the tokens.
    /// @param to The recipient.
    /// @param value The amount.
    /// @return Always true (failures revert).
    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        if (allowed != type(uint256).max) {
            require(allowed >= value, "ERC20: insufficient allowance");
            allowance[from][msg.sender] = allowed - value;
        }
        _transfer(from, to, value);
        return true;
    }

    function _transfer(address from, address to, uint256 value) internal {
        require(to != address(0), "ERC20: transfer to zero address");
        uint256 balance = balanceOf[from];
        require(balance >= value, "ERC20: insufficient balance");
        unchecked {
            balanceOf[from] = balance - value;
        }
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }

    function _mint(address to, uint256 value) internal {
        require(to != address(0), "ERC20: mint to zero address");
        totalSupply += value;
        balanceOf[to] += value;
        emit Transfer(address(0), to, value);
    }

    function _burn(address from, uint256 value) internal {
        uint256 balance = balanceOf[from];
        require(balance >= value, "ERC20: burn exceeds balance");
        unchecked {
            balanceOf[from] = balance - value;
            totalSupply -= value;
        }
        emit Transfer(from, address(0), value);
    }
}
