// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMessageReceiver} from "./IMessageReceiver.sol";

/// @title A message receiver that burns all the gas it is given (tests only)
/// @notice Shows that a batch member whose receiver exhausts its gas fails alone.
contract GreedyReceiver is IMessageReceiver {
    /// @notice Counts to infinity: never returns.
    /// @return Never.
    function onPacket(string calldata, uint64, bytes calldata, bytes calldata) external pure returns (bytes4) {
        uint256 i = 0;
        while (true) {
            ++i;
        }
        return IMessageReceiver.onPacket.selector;
    }
}
