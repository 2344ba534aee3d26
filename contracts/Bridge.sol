// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IMessageReceiver} from "./IMessageReceiver.sol";
import {SafeTransfer} from "./SafeTransfer.sol";
import {VoucherFactory} from "./VoucherFactory.sol";
import {WrappedToken} from "./WrappedToken.sol";

/// @title Pujiang Gateway bridge (notary protocol)
/// @notice Sends and receives packets between this EVM chain and the other chains of the hub.
///         Outbound: lock the native coin or an ERC-20 in escrow, burn a voucher to send it
///         home, or send a message; each emits `SendPacket` with the next sequence of its
///         route (destination chain), starting at 1. Inbound: `receivePacket` accepts a
///         packet only with a quorum certificate of the current notary committee, then mints
///         a voucher, releases escrow or calls an `IMessageReceiver`. A packet that was not
///         delivered before its timeout is refunded on a certificate of non-delivery.
/// @dev Certificates are ECDSA signatures over EIP-712 digests (domain: name "PujiangBridge",
///      version "1", chainId, verifyingContract), signers strictly increasing, each a member of
///      the current committee, at least `threshold` of them. See docs/evm-bridge.md.
///      SECURITY: the committee is trusted for safety: a quorum can mint vouchers, release
///      escrow and certify non-delivery. Each notary signs only what its own light client of
///      the source (or, for non-delivery, of the destination) verified.
contract Bridge {
    /// @notice A packet: identity (sourceChain, destChain, sequence) plus body.
    /// @dev `sender`/`receiver` are raw addresses in their own chain's format (20 bytes on EVM).
    ///      An asset packet has a non-empty `denom`, `amount > 0` and an empty `payload`; a
    ///      message packet has an empty `denom`, `amount == 0` and a non-empty `payload`.
    ///      Timeouts are in the destination's terms: the packet can no longer be received at a
    ///      block with `number >= timeoutHeight` or `timestamp >= timeoutTimestamp` (0 = unset;
    ///      at least one is set).
    struct Packet {
        uint64 sequence;
        string sourceChain;
        string destChain;
        bytes sender;
        bytes receiver;
        string denom;
        uint256 amount;
        bytes payload;
        uint64 timeoutHeight;
        uint64 timeoutTimestamp;
    }

    // ------------------------------------------------------------------ events

    /// @notice A packet left this chain; `packet` carries everything a relayer needs.
    event SendPacket(string indexed destChain, uint64 indexed sequence, address indexed sender, Packet packet);
    /// @notice A certified packet was delivered here.
    event RecvPacket(string indexed sourceChain, uint64 indexed sequence, bytes32 packetHash, Packet packet);
    /// @notice A packet sent from here was certified delivered; its commitment is cleared.
    event AcknowledgePacket(string indexed destChain, uint64 indexed sequence, bytes32 packetHash);
    /// @notice A packet sent from here was certified not delivered and was refunded.
    event TimeoutPacket(string indexed destChain, uint64 indexed sequence, bytes32 packetHash);
    /// @notice The notary committee of `epoch` took office.
    event CommitteeRotated(uint64 indexed epoch, address[] members, uint256 threshold);
    /// @notice The first voucher of `path` was minted; `token` is its ERC-20.
    event VoucherCreated(string path, address token);
    /// @notice Sends, receives, acknowledgements and timeouts were stopped.
    event Paused(address by);
    /// @notice Sends, receives, acknowledgements and timeouts were resumed.
    event Unpaused(address by);
    /// @notice The admin role moved.
    event AdminChanged(address previousAdmin, address newAdmin);

    // --------------------------------------------------------------- constants

    /// @notice EIP-712 domain name.
    string public constant NAME = "PujiangBridge";
    /// @notice EIP-712 domain version.
    string public constant VERSION = "1";
    /// @notice Denomination of this chain's native coin in packets.
    string public constant NATIVE_DENOM = "native";
    /// @notice Upper bound on committee size (bounds the gas of a certificate check).
    uint256 public constant MAX_COMMITTEE = 100;

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant PACKET_TYPEHASH = keccak256(
        "Packet(uint64 sequence,string sourceChain,string destChain,bytes sender,bytes receiver,string denom,uint256 amount,bytes payload,uint64 timeoutHeight,uint64 timeoutTimestamp)"
    );
    bytes32 private constant DELIVERED_TYPEHASH = keccak256(
        "PacketDelivered(Packet packet)Packet(uint64 sequence,string sourceChain,string destChain,bytes sender,bytes receiver,string denom,uint256 amount,bytes payload,uint64 timeoutHeight,uint64 timeoutTimestamp)"
    );
    bytes32 private constant NOT_DELIVERED_TYPEHASH = keccak256(
        "PacketNotDelivered(Packet packet)Packet(uint64 sequence,string sourceChain,string destChain,bytes sender,bytes receiver,string denom,uint256 amount,bytes payload,uint64 timeoutHeight,uint64 timeoutTimestamp)"
    );
    bytes32 private constant ROTATION_TYPEHASH =
        keccak256("CommitteeRotation(uint64 epoch,address[] members,uint256 threshold)");
    /// @dev secp256k1n / 2: signatures with a larger s are the malleated twin of a low-s one.
    uint256 private constant HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    // ------------------------------------------------------------------- state

    /// @notice This chain's id in the hub (a packet's sourceChain/destChain names it).
    string public localChain;
    bytes32 private immutable _localKey;
    /// @notice The factory that deploys this bridge's vouchers (created with the bridge).
    VoucherFactory public immutable voucherFactory;

    /// @notice Holder of the pause switch.
    address public admin;
    /// @notice True while sends, receives, acknowledgements and timeouts are stopped.
    bool public paused;

    /// @notice Epoch of the current committee (1 for the first; +1 per rotation).
    uint64 public epoch;
    /// @notice Signatures a certificate needs.
    uint256 public threshold;
    /// @notice Membership per epoch: isMember[epoch][address].
    mapping(uint64 => mapping(address => bool)) public isMember;
    address[] private _members;

    /// @notice Last sequence sent per route: lastSequence[keccak256(destChain)].
    mapping(bytes32 => uint64) public lastSequence;
    /// @notice Pending outbound packets: commitments[keccak256(destChain)][sequence] = hashPacket(packet).
    mapping(bytes32 => mapping(uint64 => bytes32)) public commitments;
    /// @notice Delivered inbound packets: received[keccak256(sourceChain)][sequence].
    mapping(bytes32 => mapping(uint64 => bool)) public received;
    /// @notice Escrow per route and token (address(0) = native): escrowed[keccak256(chain)][token].
    mapping(bytes32 => mapping(address => uint256)) public escrowed;
    /// @notice Local ERC-20 by its packet denomination: baseTokenOf[keccak256(denom)].
    mapping(bytes32 => address) public baseTokenOf;
    /// @notice Voucher by denomination path: voucherOf[keccak256(path)].
    mapping(bytes32 => address) public voucherOf;
    /// @notice True for the vouchers this bridge deployed.
    mapping(address => bool) public isVoucher;

    uint256 private _entered = 1;

    modifier onlyAdmin() {
        require(msg.sender == admin, "Bridge: caller is not the admin");
        _;
    }

    modifier whenNotPaused() {
        require(!paused, "Bridge: paused");
        _;
    }

    modifier nonReentrant() {
        require(_entered == 1, "Bridge: reentrant call");
        _entered = 2;
        _;
        _entered = 1;
    }

    /// @param localChain_ This chain's id in the hub, e.g. "anvil-31337".
    /// @param admin_ Holder of the pause switch.
    /// @param initialMembers Committee of epoch 1, addresses strictly increasing.
    /// @param threshold_ Signatures needed, a strict majority of `initialMembers` at least.
    constructor(string memory localChain_, address admin_, address[] memory initialMembers, uint256 threshold_) {
        require(bytes(localChain_).length > 0, "Bridge: empty local chain id");
        require(admin_ != address(0), "Bridge: admin is zero");
        localChain = localChain_;
        _localKey = keccak256(bytes(localChain_));
        voucherFactory = new VoucherFactory();
        admin = admin_;
        _setCommittee(1, initialMembers, threshold_);
    }

    // ------------------------------------------------------------------- sends

    /// @notice Lock msg.value of the native coin and send it to `receiver` on `destChain`.
    /// @param destChain Destination chain id.
    /// @param receiver Receiver on the destination, in its address format.
    /// @param timeoutHeight Destination height from which the packet can't be received (0 = none).
    /// @param timeoutTimestamp Destination unix time from which it can't be received (0 = none).
    /// @return sequence The packet's sequence on the route.
    function sendNative(string calldata destChain, bytes calldata receiver, uint64 timeoutHeight, uint64 timeoutTimestamp)
        external
        payable
        whenNotPaused
        nonReentrant
        returns (uint64 sequence)
    {
        require(msg.value > 0, "Bridge: amount is zero");
        escrowed[keccak256(bytes(destChain))][address(0)] += msg.value;
        return _send(destChain, receiver, NATIVE_DENOM, msg.value, "", timeoutHeight, timeoutTimestamp);
    }

    /// @notice Send `amount` of an ERC-20: a local token is locked in escrow (approve first);
    ///         a voucher of this bridge is burned, and may only travel to its origin chain.
    /// @param token The ERC-20 (a local token or a voucher).
    /// @param amount The amount.
    /// @param destChain Destination chain id.
    /// @param receiver Receiver on the destination, in its address format.
    /// @param timeoutHeight Destination height from which the packet can't be received (0 = none).
    /// @param timeoutTimestamp Destination unix time from which it can't be received (0 = none).
    /// @return sequence The packet's sequence on the route.
    function sendToken(
        address token,
        uint256 amount,
        string calldata destChain,
        bytes calldata receiver,
        uint64 timeoutHeight,
        uint64 timeoutTimestamp
    ) external whenNotPaused nonReentrant returns (uint64 sequence) {
        require(amount > 0, "Bridge: amount is zero");
        string memory denom;
        if (isVoucher[token]) {
            denom = WrappedToken(token).denomPath();
            require(_hasChainPrefix(bytes(denom), bytes(destChain)), "Bridge: voucher can only return to its origin");
            WrappedToken(token).burn(msg.sender, amount);
        } else {
            denom = _addressDenom(token);
            baseTokenOf[keccak256(bytes(denom))] = token;
            SafeTransfer.pullExact(token, msg.sender, amount);
            escrowed[keccak256(bytes(destChain))][token] += amount;
        }
        return _send(destChain, receiver, denom, amount, "", timeoutHeight, timeoutTimestamp);
    }

    /// @notice Send `payload` to the contract `receiver` on `destChain`.
    /// @param destChain Destination chain id.
    /// @param receiver Receiving contract on the destination, in its address format.
    /// @param payload Application bytes (non-empty).
    /// @param timeoutHeight Destination height from which the packet can't be received (0 = none).
    /// @param timeoutTimestamp Destination unix time from which it can't be received (0 = none).
    /// @return sequence The packet's sequence on the route.
    function sendMessage(
        string calldata destChain,
        bytes calldata receiver,
        bytes calldata payload,
        uint64 timeoutHeight,
        uint64 timeoutTimestamp
    ) external whenNotPaused nonReentrant returns (uint64 sequence) {
        require(payload.length > 0, "Bridge: empty payload");
        return _send(destChain, receiver, "", 0, payload, timeoutHeight, timeoutTimestamp);
    }

    function _send(
        string calldata destChain,
        bytes calldata receiver,
        string memory denom,
        uint256 amount,
        bytes memory payload,
        uint64 timeoutHeight,
        uint64 timeoutTimestamp
    ) private returns (uint64 sequence) {
        bytes32 route = keccak256(bytes(destChain));
        require(bytes(destChain).length > 0 && route != _localKey, "Bridge: invalid destination chain");
        require(receiver.length > 0, "Bridge: empty receiver");
        require(timeoutHeight != 0 || timeoutTimestamp != 0, "Bridge: no timeout set");
        sequence = ++lastSequence[route];
        Packet memory packet = Packet({
            sequence: sequence,
            sourceChain: localChain,
            destChain: destChain,
            sender: abi.encodePacked(msg.sender),
            receiver: receiver,
            denom: denom,
            amount: amount,
            payload: payload,
            timeoutHeight: timeoutHeight,
            timeoutTimestamp: timeoutTimestamp
        });
        commitments[route][sequence] = hashPacket(packet);
        emit SendPacket(destChain, sequence, msg.sender, packet);
    }

    // ----------------------------------------------------------------- receive

    /// @notice Deliver a packet from another chain, certified by the current committee.
    /// @dev Checks, in order: destination is this chain, not yet received, not timed out,
    ///      then the certificate over the packet's EIP-712 digest. Marks the packet received
    ///      before any external call. A failing delivery (message receiver refuses, native
    ///      transfer fails) reverts everything: the packet stays undeliverable until timeout.
    /// @param packet The packet as the source emitted it.
    /// @param signatures 65-byte (r, s, v) signatures over `packetDigest(packet)`, signers increasing.
    function receivePacket(Packet calldata packet, bytes[] calldata signatures) external whenNotPaused nonReentrant {
        bytes32 source = _checkInbound(packet);
        bytes32 packetHash = hashPacket(packet);
        _verifyCertificate(_digest(packetHash), signatures);
        received[source][packet.sequence] = true;
        _deliver(packet, source);
        emit RecvPacket(packet.sourceChain, packet.sequence, packetHash, packet);
    }

    /// @dev The checks of an inbound packet before its certificate or proof: destination is
    ///      this chain, a valid identity, not yet received, not timed out. Returns the
    ///      route key keccak256(sourceChain).
    function _checkInbound(Packet calldata packet) private view returns (bytes32 source) {
        require(keccak256(bytes(packet.destChain)) == _localKey, "Bridge: packet is not for this chain");
        source = keccak256(bytes(packet.sourceChain));
        require(source != _localKey && packet.sequence > 0, "Bridge: invalid packet identity");
        require(!received[source][packet.sequence], "Bridge: packet already received");
        require(packet.timeoutHeight == 0 || block.number < packet.timeoutHeight, "Bridge: packet timed out (height)");
        require(
            packet.timeoutTimestamp == 0 || block.timestamp < packet.timeoutTimestamp,
            "Bridge: packet timed out (timestamp)"
        );
    }

    /// @dev Mint, release or call the receiver; reverts when the packet cannot be delivered.
    function _deliver(Packet calldata packet, bytes32 source) private {
        require(packet.receiver.length == 20, "Bridge: receiver is not an address");
        address to = address(bytes20(packet.receiver));
        if (bytes(packet.denom).length == 0) {
            _deliverMessage(packet, to);
        } else {
            require(packet.amount > 0 && packet.payload.length == 0, "Bridge: malformed asset packet");
            _deliverAsset(packet, source, to);
        }
    }

    function _deliverMessage(Packet calldata packet, address to) private {
        require(packet.amount == 0 && packet.payload.length > 0, "Bridge: malformed message packet");
        require(to.code.length > 0, "Bridge: message receiver is not a contract");
        try IMessageReceiver(to).onPacket(packet.sourceChain, packet.sequence, packet.sender, packet.payload) returns (
            bytes4 answer
        ) {
            require(answer == IMessageReceiver.onPacket.selector, "Bridge: message receiver gave a wrong answer");
        } catch {
            revert("Bridge: message receiver rejected the packet");
        }
    }

    function _deliverAsset(Packet calldata packet, bytes32 source, address to) private {
        bytes memory denom = bytes(packet.denom);
        bytes memory local = bytes(localChain);
        if (_hasChainPrefix(denom, local)) {
            // The token is going home: release what the route holds in escrow.
            bytes memory base = new bytes(denom.length - local.length - 1);
            for (uint256 i = 0; i < base.length; ++i) {
                base[i] = denom[local.length + 1 + i];
            }
            address token;
            if (keccak256(base) != keccak256(bytes(NATIVE_DENOM))) {
                token = baseTokenOf[keccak256(base)];
                require(token != address(0), "Bridge: unknown denomination");
            }
            _releaseEscrow(source, token, to, packet.amount);
        } else {
            WrappedToken(_voucher(string.concat(packet.sourceChain, "/", packet.denom))).mint(to, packet.amount);
        }
    }

    function _voucher(string memory path) private returns (address voucher) {
        bytes32 key = keccak256(bytes(path));
        voucher = voucherOf[key];
        if (voucher == address(0)) {
            voucher = voucherFactory.deploy(path);
            voucherOf[key] = voucher;
            isVoucher[voucher] = true;
            emit VoucherCreated(path, voucher);
        }
    }

    function _releaseEscrow(bytes32 route, address token, address to, uint256 amount) private {
        uint256 held = escrowed[route][token];
        require(held >= amount, "Bridge: amount exceeds the route's escrow");
        escrowed[route][token] = held - amount;
        SafeTransfer.send(token, to, amount);
    }

    // ------------------------------------------------- acknowledgement, timeout

    /// @notice Clear the commitment of a packet the committee certifies as delivered.
    /// @dev Optional for users; it makes the packet final here (it can no longer time out).
    /// @param packet The packet as this chain emitted it.
    /// @param signatures Certificate over the `PacketDelivered(packet)` digest.
    function acknowledgePacket(Packet calldata packet, bytes[] calldata signatures)
        external
        whenNotPaused
        nonReentrant
    {
        (bytes32 route, bytes32 packetHash) = _pending(packet);
        _verifyCertificate(_digest(keccak256(abi.encode(DELIVERED_TYPEHASH, packetHash))), signatures);
        delete commitments[route][packet.sequence];
        emit AcknowledgePacket(packet.destChain, packet.sequence, packetHash);
    }

    /// @notice Refund a packet the committee certifies was not and can no longer be delivered.
    /// @dev SECURITY: this chain cannot see the destination's clock or state; it trusts the
    ///      committee, whose members sign only after their light client of the destination
    ///      showed the timeout passed with the packet unreceived. Refunds go to the sender:
    ///      native coin and local tokens from the route's escrow, vouchers re-minted.
    /// @param packet The packet as this chain emitted it.
    /// @param signatures Certificate over the `PacketNotDelivered(packet)` digest.
    function timeoutPacket(Packet calldata packet, bytes[] calldata signatures) external whenNotPaused nonReentrant {
        (bytes32 route, bytes32 packetHash) = _pending(packet);
        _verifyCertificate(_digest(keccak256(abi.encode(NOT_DELIVERED_TYPEHASH, packetHash))), signatures);
        delete commitments[route][packet.sequence];
        _refund(packet, route);
        emit TimeoutPacket(packet.destChain, packet.sequence, packetHash);
    }

    /// @dev Pay a packet sent from here back to its sender: native coin and local tokens
    ///      from the route's escrow, vouchers re-minted.
    function _refund(Packet calldata packet, bytes32 route) private {
        if (bytes(packet.denom).length > 0) {
            address sender = address(bytes20(packet.sender));
            bytes32 denomKey = keccak256(bytes(packet.denom));
            address voucher = voucherOf[denomKey];
            if (voucher != address(0)) {
                WrappedToken(voucher).mint(sender, packet.amount);
            } else {
                address token = denomKey == keccak256(bytes(NATIVE_DENOM)) ? address(0) : baseTokenOf[denomKey];
                _releaseEscrow(route, token, sender, packet.amount);
            }
        }
    }

    function _pending(Packet calldata packet) private view returns (bytes32 route, bytes32 packetHash) {
        require(keccak256(bytes(packet.sourceChain)) == _localKey, "Bridge: packet is not from this chain");
        route = keccak256(bytes(packet.destChain));
        packetHash = hashPacket(packet);
        bytes32 stored = commitments[route][packet.sequence];
        require(stored != bytes32(0), "Bridge: packet is not pending");
        require(stored == packetHash, "Bridge: packet differs from its commitment");
    }

    // ------------------------------------------------------------------ batches (#15)
    // One certificate for a batch of packets (docs/evm-bridge.md "Batches"): the committee
    // signs the EIP-712 `PacketBatch` statement, `submitRoot` stores it, and the entry points
    // below act on many packets of the stored root per transaction, each with an RFC 6962
    // inclusion proof (keccak-256, leaf keccak256(0x00 || hashPacket), node
    // keccak256(0x01 || left || right)). Kinds (core/batches.py): 0 DELIVERY (acted on here as
    // the destination), 1 NONDELIVERY and 3 ERROR_ACK (refunds here as the source), 2 ACK.

    /// @notice What a committee signs for a batch: route, its epoch, kind, size and root.
    struct BatchStatement {
        string sourceChain;
        string destChain;
        uint64 epoch;
        uint8 kind;
        uint32 size;
        bytes32 root;
    }

    /// @notice A certified batch root was stored (`digest` = `batchDigest(statement)`).
    event RootStored(bytes32 indexed digest, uint8 kind, uint32 size, bytes32 root);
    /// @notice A packet of a batch was received but its delivery failed (its receiver or token
    ///         refused it): it is marked received and failed; an ERROR_ACK refunds it on its source.
    event PacketFailed(
        string indexed sourceChain, uint64 indexed sequence, bytes32 packetHash, Packet packet, bytes reason
    );

    /// @notice Most packets one batch statement covers.
    uint256 public constant MAX_BATCH_SIZE = 256;
    bytes32 private constant BATCH_TYPEHASH = keccak256(
        "PacketBatch(string sourceChain,string destChain,uint64 epoch,uint8 kind,uint32 size,bytes32 root)"
    );
    uint8 private constant KIND_DELIVERY = 0;
    uint8 private constant KIND_NONDELIVERY = 1;
    uint8 private constant KIND_ACK = 2;
    uint8 private constant KIND_ERROR_ACK = 3;

    /// @notice Stored batch roots: rootStored[batchDigest(statement)].
    mapping(bytes32 => bool) public rootStored;
    /// @notice Received packets whose delivery failed: failed[keccak256(sourceChain)][sequence].
    mapping(bytes32 => mapping(uint64 => bool)) public failed;

    /// @notice Store a batch root certified by a quorum of the CURRENT committee.
    /// @dev Refused: an unknown kind; a root this chain does not act on (a DELIVERY root names
    ///      this chain as destination, the others as source); an epoch other than the current
    ///      one (an old committee's root after a rotation); a size outside 1..MAX_BATCH_SIZE;
    ///      a root already stored; a certificate failing `_verifyCertificate`.
    /// @param statement The batch statement.
    /// @param signatures 65-byte signatures over `batchDigest(statement)`, signers increasing.
    function submitRoot(BatchStatement calldata statement, bytes[] calldata signatures)
        external
        whenNotPaused
        nonReentrant
    {
        require(statement.kind <= KIND_ERROR_ACK, "Bridge: unknown batch kind");
        bool delivery = statement.kind == KIND_DELIVERY;
        bytes32 acting = keccak256(bytes(delivery ? statement.destChain : statement.sourceChain));
        bytes32 other = keccak256(bytes(delivery ? statement.sourceChain : statement.destChain));
        require(acting == _localKey && other != _localKey, "Bridge: root is not for this chain");
        require(statement.epoch == epoch, "Bridge: root of another committee epoch");
        require(statement.size > 0 && statement.size <= MAX_BATCH_SIZE, "Bridge: batch size out of range");
        bytes32 digest = batchDigest(statement);
        require(!rootStored[digest], "Bridge: root already stored");
        _verifyCertificate(digest, signatures);
        rootStored[digest] = true;
        emit RootStored(digest, statement.kind, statement.size, statement.root);
    }

    /// @notice Deliver packets of a stored DELIVERY root, many per transaction.
    /// @dev Each packet: destination this chain, source the statement's, not yet received, not
    ///      timed out, leaf `indices[i]` of the root by `proofs[i]`; any of these failing
    ///      reverts the batch. A delivery that fails for the packet's own reason (receiver
    ///      reverts, token refuses, escrow short) does not: the packet is marked received and
    ///      failed (`PacketFailed`). A delivery that runs out of gas reverts the batch (a
    ///      relayer cannot fail packets by starving them of gas).
    /// @param statement The stored statement.
    /// @param packets Packets of the batch (any subset, any order).
    /// @param indices Each packet's leaf index.
    /// @param proofs Each packet's inclusion proof, leaf side first.
    function receiveBatch(
        BatchStatement calldata statement,
        Packet[] calldata packets,
        uint32[] calldata indices,
        bytes32[][] calldata proofs
    ) external whenNotPaused nonReentrant {
        bytes32 source = _storedBatch(statement, KIND_DELIVERY, packets.length, indices.length, proofs.length);
        for (uint256 i = 0; i < packets.length; ++i) {
            Packet calldata packet = packets[i];
            require(_checkInbound(packet) == source, "Bridge: packet route differs from the statement");
            bytes32 packetHash = hashPacket(packet);
            _requireMember(packetHash, indices[i], proofs[i], statement);
            received[source][packet.sequence] = true;
            uint256 before = gasleft();
            try this.deliverBatchMember(packet, source) {
                emit RecvPacket(packet.sourceChain, packet.sequence, packetHash, packet);
            } catch (bytes memory reason) {
                require(gasleft() > before / 64, "Bridge: out of gas in a delivery");
                failed[source][packet.sequence] = true;
                emit PacketFailed(packet.sourceChain, packet.sequence, packetHash, packet, reason);
            }
        }
    }

    /// @notice One delivery of `receiveBatch`, in its own call frame so that its failure
    ///         reverts only its own effects. Only this bridge may call it.
    /// @param packet The packet (already checked and marked received by `receiveBatch`).
    /// @param source keccak256 of its source chain.
    function deliverBatchMember(Packet calldata packet, bytes32 source) external {
        require(msg.sender == address(this), "Bridge: only the bridge delivers a batch member");
        _deliver(packet, source);
    }

    /// @notice Refund packets sent from here against a stored NONDELIVERY or ERROR_ACK root.
    /// @param statement The stored statement.
    /// @param packets Packets as this chain emitted them.
    /// @param indices Each packet's leaf index.
    /// @param proofs Each packet's inclusion proof.
    function refundBatch(
        BatchStatement calldata statement,
        Packet[] calldata packets,
        uint32[] calldata indices,
        bytes32[][] calldata proofs
    ) external whenNotPaused nonReentrant {
        _settleBatch(statement, packets, indices, proofs, KIND_NONDELIVERY);
    }

    /// @notice Clear the commitments of packets sent from here against a stored ACK root.
    /// @param statement The stored statement.
    /// @param packets Packets as this chain emitted them.
    /// @param indices Each packet's leaf index.
    /// @param proofs Each packet's inclusion proof.
    function acknowledgeBatch(
        BatchStatement calldata statement,
        Packet[] calldata packets,
        uint32[] calldata indices,
        bytes32[][] calldata proofs
    ) external whenNotPaused nonReentrant {
        _settleBatch(statement, packets, indices, proofs, KIND_ACK);
    }

    /// @notice The digest the committee signs so that this chain stores `statement.root`.
    /// @param statement The statement.
    /// @return The EIP-712 digest of `PacketBatch`.
    function batchDigest(BatchStatement calldata statement) public view returns (bytes32) {
        return _digest(
            keccak256(
                abi.encode(
                    BATCH_TYPEHASH,
                    keccak256(bytes(statement.sourceChain)),
                    keccak256(bytes(statement.destChain)),
                    statement.epoch,
                    statement.kind,
                    statement.size,
                    statement.root
                )
            )
        );
    }

    function _settleBatch(
        BatchStatement calldata statement,
        Packet[] calldata packets,
        uint32[] calldata indices,
        bytes32[][] calldata proofs,
        uint8 kind
    ) private {
        bytes32 dest = _storedBatch(statement, kind, packets.length, indices.length, proofs.length);
        for (uint256 i = 0; i < packets.length; ++i) {
            _settleOne(statement, packets[i], indices[i], proofs[i], dest, kind == KIND_ACK);
        }
    }

    function _settleOne(
        BatchStatement calldata statement,
        Packet calldata packet,
        uint256 index,
        bytes32[] calldata proof,
        bytes32 dest,
        bool ack
    ) private {
        (bytes32 route, bytes32 packetHash) = _pending(packet);
        require(route == dest, "Bridge: packet route differs from the statement");
        _requireMember(packetHash, index, proof, statement);
        delete commitments[route][packet.sequence];
        if (ack) {
            emit AcknowledgePacket(packet.destChain, packet.sequence, packetHash);
        } else {
            _refund(packet, route);
            emit TimeoutPacket(packet.destChain, packet.sequence, packetHash);
        }
    }

    /// @dev The counterparty's route key of a stored root of `kind` (ERROR_ACK refunds as
    ///      NONDELIVERY does), after the arrays' shape.
    function _storedBatch(BatchStatement calldata statement, uint8 kind, uint256 n, uint256 ni, uint256 np)
        private
        view
        returns (bytes32)
    {
        require(
            statement.kind == kind || (kind == KIND_NONDELIVERY && statement.kind == KIND_ERROR_ACK),
            "Bridge: statement kind does not match"
        );
        require(n > 0 && n == ni && n == np, "Bridge: batch arrays differ in length");
        require(rootStored[batchDigest(statement)], "Bridge: root not stored");
        return keccak256(bytes(kind == KIND_DELIVERY ? statement.sourceChain : statement.destChain));
    }

    /// @dev RFC 9162 section 2.1.3.2 inclusion check of `leaf` at `index` in the statement's tree.
    function _requireMember(bytes32 leaf, uint256 index, bytes32[] calldata proof, BatchStatement calldata statement)
        private
        pure
    {
        uint256 sn = statement.size;
        require(index < sn, "Bridge: index outside the batch");
        uint256 fn = index;
        sn -= 1;
        bytes32 r = keccak256(abi.encodePacked(bytes1(0x00), leaf));
        for (uint256 i = 0; i < proof.length; ++i) {
            require(sn != 0, "Bridge: packet not in the root");
            if (fn & 1 == 1 || fn == sn) {
                r = keccak256(abi.encodePacked(bytes1(0x01), proof[i], r));
                while (fn & 1 == 0 && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                r = keccak256(abi.encodePacked(bytes1(0x01), r, proof[i]));
            }
            fn >>= 1;
            sn >>= 1;
        }
        require(sn == 0 && r == statement.root, "Bridge: packet not in the root");
    }

    // --------------------------------------------------------------- committee

    /// @notice Hand over to a new committee, authorised by a quorum of the current one.
    /// @param newEpoch Must be `epoch + 1`, so a rotation certificate works exactly once.
    /// @param newMembers New members, addresses strictly increasing.
    /// @param newThreshold Signatures the new committee needs (a strict majority at least).
    /// @param signatures Current committee's certificate over
    ///        `CommitteeRotation(newEpoch, newMembers, newThreshold)`.
    function rotateCommittee(
        uint64 newEpoch,
        address[] calldata newMembers,
        uint256 newThreshold,
        bytes[] calldata signatures
    ) external nonReentrant {
        require(newEpoch == epoch + 1, "Bridge: stale rotation epoch");
        bytes32 structHash =
            keccak256(abi.encode(ROTATION_TYPEHASH, newEpoch, keccak256(abi.encodePacked(newMembers)), newThreshold));
        _verifyCertificate(_digest(structHash), signatures);
        _setCommittee(newEpoch, newMembers, newThreshold);
    }

    /// @notice The current committee's members, increasing.
    /// @return The member addresses.
    function members() external view returns (address[] memory) {
        return _members;
    }

    function _setCommittee(uint64 newEpoch, address[] memory newMembers, uint256 newThreshold) private {
        uint256 n = newMembers.length;
        require(n > 0 && n <= MAX_COMMITTEE, "Bridge: committee size out of range");
        require(newThreshold <= n && 2 * newThreshold > n, "Bridge: threshold must be a majority");
        address last = address(0);
        for (uint256 i = 0; i < n; ++i) {
            require(newMembers[i] > last, "Bridge: members not strictly increasing");
            last = newMembers[i];
            isMember[newEpoch][last] = true;
        }
        epoch = newEpoch;
        threshold = newThreshold;
        _members = newMembers;
        emit CommitteeRotated(newEpoch, newMembers, newThreshold);
    }

    function _verifyCertificate(bytes32 digest, bytes[] calldata signatures) private view {
        require(signatures.length >= threshold, "Bridge: too few signatures");
        uint64 current = epoch;
        address last = address(0);
        for (uint256 i = 0; i < signatures.length; ++i) {
            address signer = _recover(digest, signatures[i]);
            require(isMember[current][signer], "Bridge: signer not in committee");
            require(signer != last, "Bridge: duplicate signer");
            require(signer > last, "Bridge: signers not in increasing order");
            last = signer;
        }
    }

    /// @dev ecrecover with OpenZeppelin's ECDSA rules: 65 bytes r||s||v, s in the lower half
    ///      of the curve order, v in {27, 28}, result not the zero address.
    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        require(signature.length == 65, "Bridge: signature length is not 65");
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        require(uint256(s) <= HALF_N, "Bridge: signature s is high (malleable)");
        require(v == 27 || v == 28, "Bridge: signature v is not 27 or 28");
        signer = ecrecover(digest, v, r, s);
        require(signer != address(0), "Bridge: invalid signature");
    }

    // ------------------------------------------------------------------ EIP-712

    /// @notice The EIP-712 domain separator of this contract on this chain.
    /// @return keccak256 of the encoded domain (name, version, chainId, verifyingContract).
    function domainSeparator() public view returns (bytes32) {
        return keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256(bytes(NAME)), keccak256(bytes(VERSION)), block.chainid, address(this))
        );
    }

    /// @notice EIP-712 `hashStruct` of a packet; also the packet's commitment on its source.
    /// @param packet The packet.
    /// @return The struct hash.
    function hashPacket(Packet memory packet) public pure returns (bytes32) {
        return keccak256(
            bytes.concat(
                abi.encode(
                    PACKET_TYPEHASH,
                    packet.sequence,
                    keccak256(bytes(packet.sourceChain)),
                    keccak256(bytes(packet.destChain)),
                    keccak256(packet.sender),
                    keccak256(packet.receiver)
                ),
                abi.encode(
                    keccak256(bytes(packet.denom)),
                    packet.amount,
                    keccak256(packet.payload),
                    packet.timeoutHeight,
                    packet.timeoutTimestamp
                )
            )
        );
    }

    /// @notice The digest the committee signs to certify `packet` for delivery here.
    /// @param packet The packet.
    /// @return The EIP-712 digest.
    function packetDigest(Packet calldata packet) external view returns (bytes32) {
        return _digest(hashPacket(packet));
    }

    function _digest(bytes32 structHash) private view returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator(), structHash));
    }

    // -------------------------------------------------------------------- admin

    /// @notice Stop sends, receives, acknowledgements and timeouts (rotation stays possible).
    function pause() external onlyAdmin {
        require(!paused, "Bridge: paused");
        paused = true;
        emit Paused(msg.sender);
    }

    /// @notice Resume after `pause`.
    function unpause() external onlyAdmin {
        require(paused, "Bridge: not paused");
        paused = false;
        emit Unpaused(msg.sender);
    }

    /// @notice Hand the admin role to `newAdmin`.
    /// @param newAdmin The next admin (not zero).
    function transferAdmin(address newAdmin) external onlyAdmin {
        require(newAdmin != address(0), "Bridge: admin is zero");
        emit AdminChanged(admin, newAdmin);
        admin = newAdmin;
    }

    // ------------------------------------------------------------------ strings

    /// @dev True when `denom` is `<chain>/<something>`.
    function _hasChainPrefix(bytes memory denom, bytes memory chain) private pure returns (bool) {
        if (denom.length <= chain.length + 1 || denom[chain.length] != "/") return false;
        for (uint256 i = 0; i < chain.length; ++i) {
            if (denom[i] != chain[i]) return false;
        }
        return true;
    }

    /// @dev A local ERC-20's denomination: "0x" and its address in lower-case hex.
    function _addressDenom(address token) private pure returns (string memory) {
        bytes memory out = new bytes(42);
        bytes16 digits = "0123456789abcdef";
        out[0] = "0";
        out[1] = "x";
        uint160 value = uint160(token);
        for (uint256 i = 41; i > 1; --i) {
            out[i] = digits[value & 0xf];
            value >>= 4;
        }
        return string(out);
    }
}
