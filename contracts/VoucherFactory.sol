// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {WrappedToken} from "./WrappedToken.sol";

/// @title Voucher factory of one bridge
/// @notice Deploys the bridge's vouchers, so the voucher's creation code is not part of the
///         bridge's runtime code (EIP-170 caps a contract's runtime at 24 KiB; the batch entry
///         points of #15 need the room). The bridge deploys its factory in its constructor.
/// @dev CREATE2 with salt keccak256(caller, path): one voucher per path per caller, and no
///      one can occupy a bridge's voucher address by calling first. The voucher's minter is
///      the caller.
contract VoucherFactory {
    /// @notice Deploy the voucher of `path` for the calling bridge.
    /// @param path The denomination path (origin chain id, '/', origin denomination).
    /// @return The voucher's address.
    function deploy(string calldata path) external returns (address) {
        return address(new WrappedToken{salt: keccak256(abi.encode(msg.sender, path))}(path, 18, msg.sender));
    }
}
