// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMessageReceiver} from "./IMessageReceiver.sol";

/// @title Example message receiver
/// @notice Records every message the bridge delivers; used by the tests and the demo.
contract ExampleMessageReceiver is IMessageReceiver {
    /// @notice One delivered message.
    struct Message {
        string sourceChain;
        uint64 sequence;
        bytes sender;
        bytes payload;
    }

    /// @notice Emitted for every message accepted.
    event MessageReceived(string sourceChain, uint64 indexed sequence, bytes sender, bytes payload);

    /// @notice The only caller accepted.
    address public immutable bridge;
    /// @notice The deployer, who alone may switch `rejecting`.
    address public immutable owner;
    /// @notice When true, every delivery is refused (to test failed deliveries).
    bool public rejecting;
    Message[] private _messages;

    /// @param bridge_ The bridge allowed to deliver.
    constructor(address bridge_) {
        bridge = bridge_;
        owner = msg.sender;
    }

    /// @inheritdoc IMessageReceiver
    function onPacket(string calldata sourceChain, uint64 sequence, bytes calldata sender, bytes calldata payload)
        external
        returns (bytes4)
    {
        require(msg.sender == bridge, "Receiver: caller is not the bridge");
        require(!rejecting, "Receiver: rejecting messages");
        _messages.push(Message(sourceChain, sequence, sender, payload));
        emit MessageReceived(sourceChain, sequence, sender, payload);
        return IMessageReceiver.onPacket.selector;
    }

    /// @notice Refuse (or accept again) every delivery.
    /// @param value True to refuse.
    function setRejecting(bool value) external {
        require(msg.sender == owner, "Receiver: caller is not the owner");
        rejecting = value;
    }

    /// @notice How many messages were delivered.
    /// @return The count.
    function messageCount() external view returns (uint256) {
        return _messages.length;
    }

    /// @notice The `index`-th delivered message.
    /// @param index Position, from 0.
    /// @return The message.
    function messageAt(uint256 index) external view returns (Message memory) {
        return _messages[index];
    }
}
