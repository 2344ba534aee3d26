// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title A light client of one source chain, as the Bridge asks it about a packet
/// @notice `verifyPacket` reverts (with its reason) unless the source chain committed `packet`.
interface IPacketVerifier {
    /// @param packet `abi.encode(Bridge.Packet)`.
    /// @param proof The client's proof of the packet (its own encoding).
    function verifyPacket(bytes calldata packet, bytes calldata proof) external view;
}
