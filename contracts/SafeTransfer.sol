// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Safe value transfers
/// @notice Moves the native coin (token == address(0)) or an ERC-20, tolerating
///         tokens that return nothing and refusing tokens that return false.
library SafeTransfer {
    /// @notice Pull exactly `amount` of `token` from `from` into this contract.
    /// @dev Checks the balance delta, so a fee-on-transfer token cannot make the
    ///      escrow record more than it holds.
    function pullExact(address token, address from, uint256 amount) internal {
        uint256 before = _balanceOf(token, address(this));
        _call(token, abi.encodeWithSelector(0x23b872dd, from, address(this), amount)); // transferFrom
        require(_balanceOf(token, address(this)) - before == amount, "SafeTransfer: fee-on-transfer token");
    }

    /// @notice Send `amount` of `token` (address(0): native coin) from this contract to `to`.
    function send(address token, address to, uint256 amount) internal {
        if (token == address(0)) {
            (bool ok,) = to.call{value: amount}("");
            require(ok, "SafeTransfer: native transfer failed");
        } else {
            _call(token, abi.encodeWithSelector(0xa9059cbb, to, amount)); // transfer
        }
    }

    function _call(address token, bytes memory data) private {
        require(token.code.length > 0, "SafeTransfer: token is not a contract");
        (bool ok, bytes memory ret) = token.call(data);
        require(ok && (ret.length == 0 || abi.decode(ret, (bool))), "SafeTransfer: token transfer failed");
    }

    function _balanceOf(address token, address who) private view returns (uint256) {
        (bool ok, bytes memory ret) = token.staticcall(abi.encodeWithSelector(0x70a08231, who)); // balanceOf
        require(ok && ret.length >= 32, "SafeTransfer: balanceOf failed");
        return abi.decode(ret, (uint256));
    }
}
