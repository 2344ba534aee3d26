// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {ERC20} from "./ERC20.sol";

/// @title Bridge voucher
/// @notice An ERC-20 standing for a token that lives on another chain. Only the
///         bridge that deployed it mints (on a certified inbound packet) and
///         burns (when a holder sends it home).
/// @dev `denomPath` is `<origin chain>/<denomination on the origin>`, e.g.
///      `pujiang-main/uusd`; the bridge's `VoucherFactory` deploys one voucher per path with
///      CREATE2 (salt = keccak256(bridge, path)), so a path's voucher address is predictable.
contract WrappedToken is ERC20 {
    /// @notice The bridge allowed to mint and burn.
    address public immutable bridge;
    /// @notice The denomination path this voucher represents.
    string public denomPath;

    modifier onlyBridge() {
        require(msg.sender == bridge, "WrappedToken: caller is not the bridge");
        _;
    }

    /// @param path The denomination path (origin chain id, '/', origin denomination).
    /// @param decimals_ Decimal places shown for the voucher.
    /// @param bridge_ The bridge that mints and burns it.
    constructor(string memory path, uint8 decimals_, address bridge_) ERC20(path, "PJV", decimals_) {
        bridge = bridge_;
        denomPath = path;
    }

    /// @notice Create `value` vouchers for `to` (an inbound transfer arrived).
    /// @param to The receiver named in the packet.
    /// @param value The amount of the packet.
    function mint(address to, uint256 value) external onlyBridge {
        _mint(to, value);
    }

    /// @notice Destroy `value` of `from`'s vouchers (they are travelling home).
    /// @dev The bridge calls this only for `from == msg.sender` of its own send call,
    ///      so no allowance is needed.
    /// @param from The holder sending the vouchers.
    /// @param value The amount.
    function burn(address from, uint256 value) external onlyBridge {
        _burn(from, value);
    }
}
