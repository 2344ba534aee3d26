// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {SafeTransfer} from "./SafeTransfer.sol";

/// @title Hashed timelock contract (native coin and ERC-20)
/// @notice One leg of an atomic swap. The sender locks funds for a receiver under
///         a sha256 hashlock and a timelock. Before the timelock anyone may claim
///         them for the receiver by revealing the 32-byte preimage; from the
///         timelock on, anyone may refund them to the sender. The claim event
///         carries the preimage, so a watcher of this chain learns it and can
///         claim the other leg.
/// @dev The timelock is a unix timestamp in seconds, compared with block.timestamp:
///      claim needs `block.timestamp < timelock`, refund `block.timestamp >= timelock`,
///      so exactly one of them is possible at any block.
contract HashedTimelock {
    /// @notice Life cycle of a lock.
    enum State {
        None,
        Locked,
        Claimed,
        Refunded
    }

    /// @notice The terms of a lock and its state.
    struct Lock {
        address sender;
        address receiver;
        address token; // address(0) for the native coin
        uint256 amount;
        bytes32 hashlock;
        uint64 timelock;
        State state;
    }

    /// @notice Funds were locked under `id`.
    event Locked(
        bytes32 indexed id,
        address indexed sender,
        address indexed receiver,
        address token,
        uint256 amount,
        bytes32 hashlock,
        uint64 timelock
    );
    /// @notice The lock was claimed with `preimage` (sha256(preimage) == hashlock).
    event Claimed(bytes32 indexed id, bytes32 preimage);
    /// @notice The lock expired and went back to its sender.
    event Refunded(bytes32 indexed id);

    /// @notice Every lock ever made, by id.
    mapping(bytes32 => Lock) public locks;

    /// @notice Lock `amount` of `token` (address(0): native coin, sent as msg.value) for `receiver`.
    /// @dev For an ERC-20 the caller must have approved this contract for `amount`.
    ///      Tokens that take a fee on transfer are refused.
    /// @param receiver Who gets the funds on a claim.
    /// @param hashlock sha256 of the 32-byte secret.
    /// @param timelock Unix time (seconds) from which the lock is refundable; must be in the future.
    /// @param token The ERC-20, or address(0) for the native coin.
    /// @param amount The amount; must equal msg.value for the native coin.
    /// @return id The lock's id, `computeId` of all its terms.
    function lock(address receiver, bytes32 hashlock, uint64 timelock, address token, uint256 amount)
        external
        payable
        returns (bytes32 id)
    {
        require(receiver != address(0), "HTLC: receiver is zero");
        require(amount > 0, "HTLC: amount is zero");
        require(timelock > block.timestamp, "HTLC: timelock not in the future");
        id = computeId(msg.sender, receiver, hashlock, timelock, token, amount);
        require(locks[id].state == State.None, "HTLC: lock already exists");
        if (token == address(0)) {
            require(msg.value == amount, "HTLC: value differs from amount");
        } else {
            require(msg.value == 0, "HTLC: value sent with a token lock");
            SafeTransfer.pullExact(token, msg.sender, amount);
        }
        locks[id] = Lock(msg.sender, receiver, token, amount, hashlock, timelock, State.Locked);
        emit Locked(id, msg.sender, receiver, token, amount, hashlock, timelock);
    }

    /// @notice Pay the lock to its receiver by revealing the secret, before the timelock.
    /// @param id The lock.
    /// @param preimage The 32-byte secret whose sha256 is the hashlock.
    function claim(bytes32 id, bytes32 preimage) external {
        Lock storage l = locks[id];
        require(l.state == State.Locked, "HTLC: not locked");
        require(sha256(abi.encodePacked(preimage)) == l.hashlock, "HTLC: wrong preimage");
        require(block.timestamp < l.timelock, "HTLC: timelock expired");
        l.state = State.Claimed;
        emit Claimed(id, preimage);
        SafeTransfer.send(l.token, l.receiver, l.amount);
    }

    /// @notice Return the lock to its sender once the timelock has passed.
    /// @param id The lock.
    function refund(bytes32 id) external {
        Lock storage l = locks[id];
        require(l.state == State.Locked, "HTLC: not locked");
        require(block.timestamp >= l.timelock, "HTLC: timelock not expired");
        l.state = State.Refunded;
        emit Refunded(id);
        SafeTransfer.send(l.token, l.sender, l.amount);
    }

    /// @notice The id of a lock with these terms (the same terms cannot be locked twice).
    /// @param sender Who locks (and gets a refund).
    /// @param receiver Who gets the funds on a claim.
    /// @param hashlock sha256 of the secret.
    /// @param timelock Unix time from which the lock is refundable.
    /// @param token The ERC-20, or address(0) for the native coin.
    /// @param amount The amount.
    /// @return keccak256 of the ABI encoding of (this contract, chain id, and every term).
    function computeId(
        address sender,
        address receiver,
        bytes32 hashlock,
        uint64 timelock,
        address token,
        uint256 amount
    ) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), sender, receiver, hashlock, timelock, token, amount));
    }
}
