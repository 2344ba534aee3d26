// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Message receiver
/// @notice What a contract implements to receive cross-chain messages from the bridge.
interface IMessageReceiver {
    /// @notice Handle a certified message packet.
    /// @dev Called by the bridge only. Must return `IMessageReceiver.onPacket.selector`;
    ///      reverting (or returning anything else) reverts the whole delivery, so the
    ///      packet stays undelivered and will time out and be refunded on its source.
    /// @param sourceChain The chain id of the sender's chain.
    /// @param sequence The packet's sequence on its route.
    /// @param sender The sender on the source chain, in that chain's address format.
    /// @param payload The application bytes.
    /// @return The function selector, as proof the receiver understood the call.
    function onPacket(string calldata sourceChain, uint64 sequence, bytes calldata sender, bytes calldata payload)
        external
        returns (bytes4);
}
