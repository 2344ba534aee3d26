// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title On-chain light client of one Pujiang subchain (standard crypto profile: sha256 + BLS)
/// @notice Holds the consensus states (events root, state root, time, validator-set hashes) of
///         the headers it verified, and proves a `send_packet` event of the source chain to the
///         Bridge. Anyone may update it: a header counts only with a commit of more than 2/3 of
///         the power of the set the header names, checked here with one BLS12-381 pairing.
/// @dev The rules are those of `proofs/pujiang` (docs/pujiang-chain.md, "Light client"), in the
///      same order; every refusal is `"LC: <check>"` with the check name the Python light client
///      gives, so the two can be compared on the same vectors (docs/light-client-route.md).
///
///      BLS: the IETF proof-of-possession ciphersuite, public keys in G1 (min-pk). Keys and the
///      aggregate signature travel in EIP-2537's uncompressed encoding (G1: 128 bytes, G2: 256).
///      The set hash a header commits to is over COMPRESSED keys: the contract re-compresses each
///      key (x and the sign of y) and recomputes the RFC 6962 root over `rlp([key, power])`, so
///      the uncompressed keys are bound to the header's `validators_hash` without an on-chain
///      square root. Keys are checked once per set (not infinity, on the curve, in the subgroup,
///      through one G1MSM call); aggregation of signers is G1ADD (which refuses off-curve and
///      non-canonical coordinates); the message is hashed to G2 with expand_message_xmd
///      (SHA-256) then MAP_FP2_TO_G2 + G2ADD; the pairing precompile checks the signature's
///      subgroup. Proofs of possession are not checked here: a set is only ever used because
///      a header signed by the trusted set named it, and the chain checked every PoP when it
///      admitted the set (`validator_update`); the relayer's own light client checks them too.
///
///      SECURITY: sound while fewer than 1/3 of the power of every set this client trusts is
///      faulty within the trusting period; a conflicting header for a height already held, or
///      two valid commits for one height (`submitMisbehaviour`), freezes the client for good.
contract PujiangLightClient {
    /// @notice What one verified header says.
    struct ConsensusState {
        bytes32 headerHash;
        bytes32 eventsRoot;
        bytes32 stateRoot;
        bytes32 validatorsHash;
        bytes32 nextValidatorsHash;
        uint64 timeMs;
        uint64 eventCount;
        uint64 stateSize;
    }

    /// @notice One client update: a header, its commit and the keys it needs.
    /// @param trustedHeight A height this client holds, the update is verified from.
    /// @param header The header's RLP, as the chain serves it.
    /// @param commit The commit's RLP (its compressed signature is not used: see `signature`).
    /// @param signature The commit's aggregate signature, EIP-2537 G2 encoding (256 bytes).
    /// @param keys The header's validator set in set order, EIP-2537 G1 encoding (128 bytes each).
    /// @param powers The voting power of each of `keys`.
    /// @param trustedKeys Skipping to a header signed by another set than the trusted one: the
    ///        trusted set's compressed keys (48 bytes each); empty otherwise.
    /// @param trustedPowers The powers of `trustedKeys`.
    struct Update {
        uint64 trustedHeight;
        bytes header;
        bytes commit;
        bytes signature;
        bytes keys;
        uint256[] powers;
        bytes trustedKeys;
        uint256[] trustedPowers;
    }

    /// @notice A packet as the Bridge holds it (same layout as `Bridge.Packet`).
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

    struct Header {
        bytes32 chainKey;
        uint64 height;
        uint64 timeMs;
        bytes32 parentHash;
        bytes32 eventsRoot;
        uint64 eventCount;
        bytes32 stateRoot;
        uint64 stateSize;
        bytes32 validatorsHash;
        bytes32 nextValidatorsHash;
        bytes32 hash;
    }

    struct Commit {
        uint64 height;
        uint64 round;
        bytes32 headerHash;
        uint256 signersOffset;
        uint256 signersLength;
    }

    /// @notice A header was verified and its consensus state stored.
    event ClientUpdated(uint64 indexed height, bytes32 headerHash, bytes32 validatorsHash);
    /// @notice Two valid headers for one height: the client is frozen.
    event ClientFrozen(uint64 indexed height, bytes32 headerHash, bytes32 conflictingHash);

    /// @notice Maximum validators in a set (the format's bound).
    uint256 public constant MAX_VALIDATORS = 1024;
    uint256 private constant MAX_TOTAL_POWER = 2 ** 62;

    address private constant MODEXP = address(0x05);
    address private constant G1ADD = address(0x0b);
    address private constant G1MSM = address(0x0c);
    address private constant G2ADD = address(0x0d);
    address private constant PAIRING = address(0x0f);
    address private constant MAP_FP2_TO_G2 = address(0x11);

    // p of BLS12-381 in the 64-byte EIP-2537 field encoding, and (p - 1) / 2, as two words.
    uint256 private constant P_HI = 0x1a0111ea397fe69a4b1ba7b6434bacd7;
    uint256 private constant P_LO = 0x64774b84f38512bf6730d2a0f6b0f6241eabfffeb153ffffb9feffffffffaaab;
    uint256 private constant HALF_P_HI = 0x0d0088f51cbff34d258dd3db21a5d66b;
    uint256 private constant HALF_P_LO = 0xb23ba5c279c2895fb39869507b587b120f55ffff58a9ffffdcff7fffffffd555;
    // -G1 (the generator with y negated), EIP-2537 encoding, four words.
    uint256 private constant NEG_G1_X_HI = 0x17f1d3a73197d7942695638c4fa9ac0f;
    uint256 private constant NEG_G1_X_LO = 0xc3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb;
    uint256 private constant NEG_G1_Y_HI = 0x114d1d6855d545a8aa7d76c8cf2e21f2;
    uint256 private constant NEG_G1_Y_LO = 0x67816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca;

    bytes private constant SIG_DST = "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_";
    bytes private constant COMMIT_TAG = "pujiang/commit/v1";

    /// @notice The subchain this client follows.
    string public chainId;
    bytes32 private immutable _chainKey;
    /// @notice How long a verified header may be trusted, in milliseconds.
    uint64 public immutable trustingPeriodMs;
    /// @notice How far a header's time may be ahead of this chain's clock, in milliseconds.
    uint64 public immutable maxClockDriftMs;
    /// @notice The highest height held.
    uint64 public latestHeight;
    /// @notice Non-zero once misbehaviour froze the client: the height of the conflict.
    uint64 public frozenHeight;
    /// @notice Consensus states by height.
    mapping(uint64 => ConsensusState) public consensusStates;
    /// @notice Validator sets (by hash) whose keys passed the infinity, curve and subgroup checks.
    mapping(bytes32 => bool) public keysChecked;
    address private immutable _deployer;

    /// @param chainId_ The subchain's id.
    /// @param trustingPeriodMs_ Trusting period (well below the chain's unbonding period).
    /// @param maxClockDriftMs_ Allowed clock drift.
    constructor(string memory chainId_, uint64 trustingPeriodMs_, uint64 maxClockDriftMs_) {
        require(trustingPeriodMs_ > 0, "LC: trusting period is zero");
        chainId = chainId_;
        _chainKey = keccak256(bytes(chainId_));
        trustingPeriodMs = trustingPeriodMs_;
        maxClockDriftMs = maxClockDriftMs_;
        _deployer = msg.sender;
    }

    /// @notice Store the checkpoint, trusted out of band; once, by the deployer.
    /// @param trustedHeight The checkpoint's height.
    /// @param trustedHash The checkpoint's header hash.
    /// @param header The checkpoint header (RLP); it must hash to `trustedHash`.
    function initialize(uint64 trustedHeight, bytes32 trustedHash, bytes calldata header) external {
        require(msg.sender == _deployer && latestHeight == 0, "LC: not the deployer or initialized");
        Header memory h = decodeHeader(header);
        require(h.chainKey == _chainKey, "LC: chain-id");
        require(h.height == trustedHeight, "LC: checkpoint-height");
        require(h.hash == trustedHash, "LC: checkpoint-hash");
        require(block.timestamp * 1000 < uint256(h.timeMs) + trustingPeriodMs, "LC: trusting-period");
        _store(h);
    }

    // ------------------------------------------------------------------ updates

    /// @notice Verify a header from a held height and store its consensus state.
    /// @dev A second, different header for a height already held freezes the client (and
    ///      returns without reverting, so the freeze stays); the same header again is a no-op.
    /// @param u The update.
    function updateClient(Update calldata u) external {
        (Header memory h, bool keysNew) = _verify(u, block.timestamp * 1000);
        ConsensusState storage held = consensusStates[h.height];
        if (held.headerHash != bytes32(0)) {
            if (held.headerHash != h.hash) _freeze(h.height, held.headerHash, h.hash);
            return;
        }
        if (keysNew) keysChecked[h.validatorsHash] = true;
        _store(h);
    }

    /// @notice Freeze the client with two valid commits for different headers at one height.
    /// @param a One update.
    /// @param b Another update for the same height, another header.
    function submitMisbehaviour(Update calldata a, Update calldata b) external {
        uint256 nowMs = block.timestamp * 1000;
        (Header memory ha,) = _verify(a, nowMs);
        (Header memory hb,) = _verify(b, nowMs);
        require(ha.height == hb.height && ha.hash != hb.hash, "LC: not misbehaviour");
        _freeze(ha.height, ha.hash, hb.hash);
    }

    /// @notice The checks of `updateClient` at a chosen time, without storing anything.
    /// @param u The update.
    /// @param nowMs The time to check against, unix milliseconds.
    /// @return height The verified header's height.
    /// @return headerHash Its hash.
    function verifyUpdate(Update calldata u, uint256 nowMs) external view returns (uint64 height, bytes32 headerHash) {
        (Header memory h,) = _verify(u, nowMs);
        return (h.height, h.hash);
    }

    function _freeze(uint64 height, bytes32 a, bytes32 b) private {
        frozenHeight = height;
        emit ClientFrozen(height, a, b);
    }

    function _store(Header memory h) private {
        consensusStates[h.height] = ConsensusState({
            headerHash: h.hash,
            eventsRoot: h.eventsRoot,
            stateRoot: h.stateRoot,
            validatorsHash: h.validatorsHash,
            nextValidatorsHash: h.nextValidatorsHash,
            timeMs: h.timeMs,
            eventCount: h.eventCount,
            stateSize: h.stateSize
        });
        if (h.height > latestHeight) latestHeight = h.height;
        emit ClientUpdated(h.height, h.hash, h.validatorsHash);
    }

    /// @dev The order of `proofs.pujiang.light_client.verify_header`; returns the header and
    ///      whether its set's keys were checked now (for the cache).
    function _verify(Update calldata u, uint256 nowMs) private view returns (Header memory h, bool keysNew) {
        require(frozenHeight == 0, "LC: frozen");
        h = decodeHeader(u.header);
        Commit memory c = _decodeCommit(u.commit);
        require(h.chainKey == _chainKey, "LC: chain-id");
        (bool adjacent, bytes32 trustedSet) = _checkTrusted(u.trustedHeight, h, nowMs);
        require(c.height == h.height, "LC: commit-height");
        require(c.headerHash == h.hash, "LC: commit-header-hash");
        bytes32[] memory compressed = _hashUncompressedSet(u.keys, u.powers, h.validatorsHash);
        uint256[] memory signers = _signers(u.commit[c.signersOffset:c.signersOffset + c.signersLength], u.powers.length);
        _checkQuorum(signers, u.powers);
        if (!adjacent && trustedSet != h.validatorsHash) {
            _checkTrustOverlap(signers, compressed, trustedSet, u.trustedKeys, u.trustedPowers);
        }
        keysNew = !keysChecked[h.validatorsHash];
        if (keysNew) _checkKeys(u.keys);
        _checkSignature(u.keys, signers, u.signature, _signingPayload(c));
    }

    /// @dev The checks against the trusted state, before any commit is looked at.
    function _checkTrusted(uint64 trustedHeight, Header memory h, uint256 nowMs)
        private
        view
        returns (bool adjacent, bytes32 trustedSet)
    {
        ConsensusState memory trusted = consensusStates[trustedHeight];
        require(trusted.headerHash != bytes32(0), "LC: unknown trusted height");
        require(h.height > trustedHeight, "LC: height");
        require(nowMs < uint256(trusted.timeMs) + trustingPeriodMs, "LC: trusting-period");
        require(h.timeMs <= nowMs + maxClockDriftMs, "LC: clock-drift");
        require(h.timeMs > trusted.timeMs, "LC: time-monotonic");
        adjacent = h.height == trustedHeight + 1;
        if (adjacent) {
            require(h.validatorsHash == trusted.nextValidatorsHash, "LC: next-validators-hash");
            require(h.parentHash == trusted.headerHash, "LC: parent-hash");
        }
        trustedSet = trusted.validatorsHash;
    }

    // ------------------------------------------------------------ validator sets

    /// @dev Re-compress each key, check order, power and bounds ("encoding"), hash the set
    ///      and compare with `expected` ("validators-hash"). Returns the compressed keys as
    ///      pairs of words (first 32 bytes, last 16 bytes left-aligned).
    function _hashUncompressedSet(bytes calldata keys, uint256[] calldata powers, bytes32 expected)
        private
        view
        returns (bytes32[] memory compressed)
    {
        uint256 n = powers.length;
        require(n > 0 && n <= MAX_VALIDATORS && keys.length == n * 128, "LC: encoding");
        compressed = new bytes32[](2 * n);
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            (bytes32 a, bytes32 b) = _compress(keys[i * 128:(i + 1) * 128]);
            compressed[2 * i] = a;
            compressed[2 * i + 1] = b;
            leaves[i] = _validatorLeaf(a, b, powers[i]);
        }
        _checkOrderAndPower(compressed, powers);
        require(_merkleRoot(leaves) == expected, "LC: validators-hash");
    }

    /// @dev A trusted set given compressed (48 bytes per key); its hash must be `expected`.
    function _hashCompressedSet(bytes calldata keys, uint256[] calldata powers, bytes32 expected)
        private
        view
        returns (bytes32[] memory compressed)
    {
        uint256 n = powers.length;
        require(n > 0 && n <= MAX_VALIDATORS && keys.length == n * 48, "LC: trusted-validators");
        compressed = new bytes32[](2 * n);
        bytes32[] memory leaves = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            bytes32 a = bytes32(keys[i * 48:i * 48 + 32]);
            bytes32 b = bytes32(bytes16(keys[i * 48 + 32:i * 48 + 48]));
            compressed[2 * i] = a;
            compressed[2 * i + 1] = b;
            leaves[i] = _validatorLeaf(a, b, powers[i]);
        }
        require(_merkleRoot(leaves) == expected, "LC: trusted-validators");
    }

    function _checkOrderAndPower(bytes32[] memory compressed, uint256[] calldata powers) private pure {
        uint256 total = 0;
        for (uint256 i = 0; i < powers.length; ++i) {
            require(powers[i] >= 1, "LC: encoding");
            total += powers[i];
            require(total < MAX_TOTAL_POWER, "LC: encoding");
            if (i > 0) require(_less(compressed, i - 1, i), "LC: encoding");
        }
    }

    function _less(bytes32[] memory k, uint256 i, uint256 j) private pure returns (bool) {
        if (k[2 * i] != k[2 * j]) return k[2 * i] < k[2 * j];
        return k[2 * i + 1] < k[2 * j + 1];
    }

    /// @dev The ZCash/IETF compressed form of an EIP-2537 G1 point: x with the compression
    ///      flag and the sign of y (set when y > (p-1)/2). Infinity and a padded coordinate
    ///      with non-zero padding are refused ("validator-key").
    function _compress(bytes calldata key) private pure returns (bytes32 a, bytes32 b) {
        uint256 xHi = uint256(bytes32(key[0:32]));
        uint256 xLo = uint256(bytes32(key[32:64]));
        uint256 yHi = uint256(bytes32(key[64:96]));
        uint256 yLo = uint256(bytes32(key[96:128]));
        require(xHi | xLo | yHi | yLo != 0, "LC: validator-key (infinity)");
        require(xHi >> 128 == 0 && yHi >> 128 == 0, "LC: validator-key (encoding)");
        bool ySign = yHi > HALF_P_HI || (yHi == HALF_P_HI && yLo > HALF_P_LO);
        uint256 first = (xHi << 128) | (xLo >> 128);
        first |= (uint256(0x80) | (ySign ? 0x20 : 0)) << 248;
        a = bytes32(first);
        b = bytes32(xLo << 128);
    }

    /// @dev sha256(0x00 || rlp([pubkey (48 bytes), power])).
    function _validatorLeaf(bytes32 a, bytes32 b, uint256 power) private view returns (bytes32) {
        bytes memory item = bytes.concat(hex"b0", a, bytes16(b), _encodeUint(power));
        return _sha256(bytes.concat(hex"00", _encodeListPrefix(item.length), item));
    }

    /// @dev Key checks once per set: not infinity (done by `_compress`), on the curve and in the
    ///      subgroup: G1MSM checks both for every input point; scalars are 1.
    function _checkKeys(bytes calldata keys) private view {
        uint256 n = keys.length / 128;
        bytes memory input = new bytes(n * 160);
        for (uint256 i = 0; i < n; ++i) {
            bytes calldata key = keys[i * 128:(i + 1) * 128];
            assembly {
                let dst := add(add(input, 32), mul(i, 160))
                calldatacopy(dst, key.offset, 128)
                mstore(add(dst, 128), 1)
            }
        }
        (bool ok,) = G1MSM.staticcall(input);
        require(ok, "LC: validator-key (not a G1 subgroup point)");
    }

    // ------------------------------------------------------------------- commits

    /// @dev Bitmap of ceil(n/8) bytes, bit i = byte[i/8] >> (i%8) & 1, nothing past n.
    function _signers(bytes calldata bitmap, uint256 n) private pure returns (uint256[] memory signers) {
        require(bitmap.length == (n + 7) / 8, "LC: signers-bitmap");
        uint256 count = 0;
        uint256[] memory all = new uint256[](n);
        for (uint256 i = 0; i < bitmap.length * 8; ++i) {
            if ((uint8(bitmap[i / 8]) >> (i % 8)) & 1 == 1) {
                require(i < n, "LC: signers-bitmap");
                all[count++] = i;
            }
        }
        signers = new uint256[](count);
        for (uint256 i = 0; i < count; ++i) {
            signers[i] = all[i];
        }
    }

    function _checkQuorum(uint256[] memory signers, uint256[] calldata powers) private pure {
        uint256 total = 0;
        for (uint256 i = 0; i < powers.length; ++i) {
            total += powers[i];
        }
        uint256 signed = 0;
        for (uint256 i = 0; i < signers.length; ++i) {
            signed += powers[signers[i]];
        }
        require(signed * 3 > total * 2, "LC: quorum");
    }

    /// @dev Skipping: the signers hold more than 1/3 of the TRUSTED set's power, matched by
    ///      key (both sets are sorted by compressed key: one merge walk).
    function _checkTrustOverlap(
        uint256[] memory signers,
        bytes32[] memory compressed,
        bytes32 trustedHash,
        bytes calldata trustedKeys,
        uint256[] calldata trustedPowers
    ) private view {
        bytes32[] memory trusted = _hashCompressedSet(trustedKeys, trustedPowers, trustedHash);
        uint256 total = 0;
        for (uint256 i = 0; i < trustedPowers.length; ++i) {
            total += trustedPowers[i];
        }
        uint256 overlap = 0;
        uint256 j = 0;
        for (uint256 s = 0; s < signers.length; ++s) {
            uint256 i = signers[s];
            while (j < trustedPowers.length && _before(trusted, j, compressed, i)) ++j;
            if (j < trustedPowers.length && trusted[2 * j] == compressed[2 * i] && trusted[2 * j + 1] == compressed[2 * i + 1]) {
                overlap += trustedPowers[j];
            }
        }
        require(overlap * 3 > total, "LC: trust-overlap");
    }

    function _before(bytes32[] memory x, uint256 i, bytes32[] memory y, uint256 j) private pure returns (bool) {
        if (x[2 * i] != y[2 * j]) return x[2 * i] < y[2 * j];
        return x[2 * i + 1] < y[2 * j + 1];
    }

    /// @dev rlp([b"pujiang/commit/v1", chain_id, height, round, header_hash]).
    function _signingPayload(Commit memory c) private view returns (bytes memory) {
        bytes memory items = bytes.concat(
            _encodeBytes(COMMIT_TAG),
            _encodeBytes(bytes(chainId)),
            _encodeUint(c.height),
            _encodeUint(c.round),
            hex"a0",
            c.headerHash
        );
        return bytes.concat(_encodeListPrefix(items.length), items);
    }

    /// @dev FastAggregateVerify with one pairing check: e(sum of signer keys, H(m)) * e(-G1, sig) == 1.
    function _checkSignature(bytes calldata keys, uint256[] memory signers, bytes calldata sig, bytes memory message)
        private
        view
    {
        require(sig.length == 256, "LC: aggregate-signature (encoding)");
        bool zero = true;
        for (uint256 i = 0; i < 256; i += 32) {
            if (bytes32(sig[i:i + 32]) != bytes32(0)) zero = false;
        }
        require(!zero, "LC: aggregate-signature (infinity)");
        bytes memory aggregate = keys[signers[0] * 128:signers[0] * 128 + 128];
        for (uint256 s = 1; s < signers.length; ++s) {
            (bool ok, bytes memory sum) =
                G1ADD.staticcall(bytes.concat(aggregate, keys[signers[s] * 128:signers[s] * 128 + 128]));
            require(ok, "LC: validator-key (not a G1 point)");
            aggregate = sum;
        }
        bytes memory input = bytes.concat(
            aggregate,
            hashToG2(message),
            abi.encode(NEG_G1_X_HI, NEG_G1_X_LO, NEG_G1_Y_HI, NEG_G1_Y_LO),
            sig
        );
        (bool paired, bytes memory out) = PAIRING.staticcall(input);
        require(paired, "LC: aggregate-signature (not a G2 subgroup point)");
        require(abi.decode(out, (uint256)) == 1, "LC: aggregate-signature");
    }

    // ------------------------------------------------------------- hash to G2

    /// @notice hash_to_curve of the IETF BLS signature ciphersuite (POP, G2, XMD:SHA-256, SSWU, RO).
    /// @param message The message.
    /// @return The point, EIP-2537 G2 encoding (256 bytes).
    function hashToG2(bytes memory message) public view returns (bytes memory) {
        bytes memory uniform = _expandMessageXmd(message);
        bytes memory q0 = _mapToG2(_reduce(uniform, 0), _reduce(uniform, 64));
        bytes memory q1 = _mapToG2(_reduce(uniform, 128), _reduce(uniform, 192));
        (bool ok, bytes memory sum) = G2ADD.staticcall(bytes.concat(q0, q1));
        require(ok, "LC: G2ADD failed");
        return sum;
    }

    /// @dev expand_message_xmd (RFC 9380 §5.3.1), SHA-256, 256 output bytes.
    function _expandMessageXmd(bytes memory message) private view returns (bytes memory uniform) {
        bytes memory dstPrime = bytes.concat(SIG_DST, bytes1(uint8(SIG_DST.length)));
        bytes32 b0 = _sha256(bytes.concat(new bytes(64), message, hex"010000", dstPrime));
        bytes32 bi = _sha256(bytes.concat(b0, hex"01", dstPrime));
        uniform = bytes.concat(bi);
        for (uint8 i = 2; i <= 8; ++i) {
            bi = _sha256(bytes.concat(b0 ^ bi, bytes1(i), dstPrime));
            uniform = bytes.concat(uniform, bi);
        }
    }

    /// @dev 64 bytes of `uniform` at `offset`, as a big-endian integer mod p (MODEXP, exponent 1).
    function _reduce(bytes memory uniform, uint256 offset) private view returns (bytes memory) {
        bytes32 hi;
        bytes32 lo;
        assembly {
            hi := mload(add(add(uniform, 32), offset))
            lo := mload(add(add(uniform, 64), offset))
        }
        (bool ok, bytes memory out) =
            MODEXP.staticcall(abi.encodePacked(uint256(64), uint256(1), uint256(64), hi, lo, uint8(1), P_HI, P_LO));
        require(ok && out.length == 64, "LC: MODEXP failed");
        return out;
    }

    function _mapToG2(bytes memory c0, bytes memory c1) private view returns (bytes memory) {
        (bool ok, bytes memory point) = MAP_FP2_TO_G2.staticcall(bytes.concat(c0, c1));
        require(ok, "LC: MAP_FP2_TO_G2 failed");
        return point;
    }

    // ----------------------------------------------------------------- packets

    /// @notice Revert unless `packet` was sent by the source chain: a `send_packet` event in the
    ///         events root of a held height. Called by the Bridge.
    /// @param packet `abi.encode(Bridge.Packet)`.
    /// @param proof `abi.encode(uint64 height, uint64 txIndex, uint64 eventIndex, uint64 leafIndex, bytes32[] path)`.
    function verifyPacket(bytes calldata packet, bytes calldata proof) external view {
        require(frozenHeight == 0, "LC: frozen");
        ConsensusState memory latest = consensusStates[latestHeight];
        require(block.timestamp * 1000 < uint256(latest.timeMs) + trustingPeriodMs, "LC: client expired");
        (uint64 height, uint64 txIndex, uint64 eventIndex, uint64 leafIndex, bytes32[] memory path) =
            abi.decode(proof, (uint64, uint64, uint64, uint64, bytes32[]));
        ConsensusState memory cs = consensusStates[height];
        require(cs.headerHash != bytes32(0), "LC: unknown height");
        Packet memory p = abi.decode(packet, (Packet));
        require(keccak256(bytes(p.sourceChain)) == _chainKey, "LC: packet from another chain");
        bytes32 leaf = _sha256(bytes.concat(hex"00", _sendPacketEvent(p, txIndex, eventIndex)));
        require(_verifyInclusion(leaf, leafIndex, cs.eventCount, path, cs.eventsRoot), "LC: event not in events root");
    }

    /// @dev rlp([b"send_packet", tx_index, event_index, [[name, value], ...]]) in the devnet's
    ///      attribute order (devnet/events.py); the timeout is carried in ms on the source.
    function _sendPacketEvent(Packet memory p, uint64 txIndex, uint64 eventIndex) private pure returns (bytes memory) {
        bytes memory attrs = bytes.concat(
            _pair("source_chain", bytes(p.sourceChain)),
            _pair("dest_chain", bytes(p.destChain)),
            _pair("sequence", _minimal(p.sequence))
        );
        attrs = bytes.concat(attrs, _pair("sender", p.sender), _pair("receiver", p.receiver));
        attrs = bytes.concat(attrs, _pair("denom", bytes(p.denom)), _pair("amount", _minimal(p.amount)));
        attrs = bytes.concat(attrs, _pair("payload", p.payload), _pair("timeout_height", _minimal(p.timeoutHeight)));
        attrs = bytes.concat(attrs, _pair("timeout_time_ms", _minimal(uint256(p.timeoutTimestamp) * 1000)));
        bytes memory items = bytes.concat(
            _encodeBytes("send_packet"),
            _encodeUint(txIndex),
            _encodeUint(eventIndex),
            _encodeListPrefix(attrs.length),
            attrs
        );
        return bytes.concat(_encodeListPrefix(items.length), items);
    }

    function _pair(bytes memory key, bytes memory value) private pure returns (bytes memory) {
        bytes memory items = bytes.concat(_encodeBytes(key), _encodeBytes(value));
        return bytes.concat(_encodeListPrefix(items.length), items);
    }

    // ---------------------------------------------------------------- merkle

    /// @dev RFC 6962 root by levels (an unpaired last node moves up as is: same root as MTH).
    function _merkleRoot(bytes32[] memory nodes) private view returns (bytes32) {
        uint256 n = nodes.length;
        while (n > 1) {
            uint256 half = 0;
            for (uint256 i = 0; i + 1 < n; i += 2) {
                nodes[half++] = _sha256(bytes.concat(hex"01", nodes[i], nodes[i + 1]));
            }
            if (n % 2 == 1) nodes[half++] = nodes[n - 1];
            n = half;
        }
        return nodes[0];
    }

    /// @dev RFC 9162 §2.1.3.2 inclusion verification.
    function _verifyInclusion(bytes32 leaf, uint256 index, uint256 size, bytes32[] memory path, bytes32 root)
        private
        view
        returns (bool)
    {
        if (index >= size) return false;
        uint256 fn = index;
        uint256 sn = size - 1;
        bytes32 r = leaf;
        for (uint256 i = 0; i < path.length; ++i) {
            if (sn == 0) return false;
            if (fn & 1 == 1 || fn == sn) {
                r = _sha256(bytes.concat(hex"01", path[i], r));
                if (fn & 1 == 0) {
                    while (fn & 1 == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                }
            } else {
                r = _sha256(bytes.concat(hex"01", r, path[i]));
            }
            fn >>= 1;
            sn >>= 1;
        }
        return sn == 0 && r == root;
    }

    function _sha256(bytes memory data) private view returns (bytes32 digest) {
        (bool ok, bytes memory out) = address(0x02).staticcall(data);
        require(ok, "LC: SHA256 failed");
        digest = bytes32(out);
    }

    // ------------------------------------------------------------- RLP decode

    /// @notice Decode a header the way `proofs.pujiang.codec` does (canonical RLP, version 1).
    /// @param data The header's RLP.
    /// @return h Its fields and its sha256 hash.
    function decodeHeader(bytes calldata data) public view returns (Header memory h) {
        (uint256 pos, uint256 end) = _list(data, 0, data.length);
        require(end == data.length, "LC: encoding");
        uint256 start;
        uint256 len;
        (start, len, pos) = _string(data, pos, end);
        require(_uint(data, start, len) == 1, "LC: encoding");
        (start, len, pos) = _string(data, pos, end);
        h.chainKey = keccak256(data[start:start + len]);
        (start, len, pos) = _string(data, pos, end);
        h.height = uint64(_uint(data, start, len));
        (start, len, pos) = _string(data, pos, end);
        h.timeMs = uint64(_uint(data, start, len));
        (h.parentHash, pos) = _hash32(data, pos, end);
        (, pos) = _hash32(data, pos, end); // last_commit_hash
        (, pos) = _hash32(data, pos, end); // tx_root
        (start, len, pos) = _string(data, pos, end);
        _uint(data, start, len); // tx_count
        (h.eventsRoot, pos) = _hash32(data, pos, end);
        (start, len, pos) = _string(data, pos, end);
        h.eventCount = uint64(_uint(data, start, len));
        (h.stateRoot, pos) = _hash32(data, pos, end);
        (start, len, pos) = _string(data, pos, end);
        h.stateSize = uint64(_uint(data, start, len));
        (h.validatorsHash, pos) = _hash32(data, pos, end);
        (h.nextValidatorsHash, pos) = _hash32(data, pos, end);
        require(pos == end && h.height >= 1, "LC: encoding");
        h.hash = _sha256(data);
    }

    function _decodeCommit(bytes calldata data) private pure returns (Commit memory c) {
        (uint256 pos, uint256 end) = _list(data, 0, data.length);
        require(end == data.length, "LC: encoding");
        uint256 start;
        uint256 len;
        (start, len, pos) = _string(data, pos, end);
        c.height = uint64(_uint(data, start, len));
        (start, len, pos) = _string(data, pos, end);
        c.round = uint64(_uint(data, start, len));
        (c.headerHash, pos) = _hash32(data, pos, end);
        (c.signersOffset, c.signersLength, pos) = _string(data, pos, end);
        (, len, pos) = _string(data, pos, end);
        require(len == 96 && pos == end, "LC: encoding");
    }

    /// @dev The item at `pos`: (payload start, payload length, is list), canonical forms only.
    function _item(bytes calldata data, uint256 pos, uint256 end)
        private
        pure
        returns (uint256 start, uint256 len, bool isList)
    {
        require(pos < end, "LC: encoding");
        uint8 prefix = uint8(data[pos]);
        if (prefix < 0x80) {
            return (pos, 1, false);
        }
        isList = prefix >= 0xc0;
        uint8 base = isList ? 0xc0 : 0x80;
        if (prefix - base <= 55) {
            start = pos + 1;
            len = prefix - base;
            require(isList || len != 1 || uint8(data[start]) >= 0x80, "LC: encoding");
        } else {
            uint256 lenLen = prefix - base - 55;
            require(pos + 1 + lenLen <= end && data[pos + 1] != 0, "LC: encoding");
            for (uint256 i = 0; i < lenLen; ++i) {
                len = (len << 8) | uint8(data[pos + 1 + i]);
            }
            require(len > 55 && lenLen <= 4, "LC: encoding");
            start = pos + 1 + lenLen;
        }
        require(start + len <= end, "LC: encoding");
    }

    function _list(bytes calldata data, uint256 pos, uint256 end) private pure returns (uint256 start, uint256 stop) {
        (uint256 s, uint256 len, bool isList) = _item(data, pos, end);
        require(isList, "LC: encoding");
        return (s, s + len);
    }

    function _string(bytes calldata data, uint256 pos, uint256 end)
        private
        pure
        returns (uint256 start, uint256 len, uint256 next)
    {
        bool isList;
        (start, len, isList) = _item(data, pos, end);
        require(!isList, "LC: encoding");
        next = start + len;
    }

    function _hash32(bytes calldata data, uint256 pos, uint256 end) private pure returns (bytes32 value, uint256 next) {
        uint256 start;
        uint256 len;
        (start, len, next) = _string(data, pos, end);
        require(len == 32, "LC: encoding");
        value = bytes32(data[start:start + 32]);
    }

    /// @dev A minimal big-endian unsigned integer of at most 8 bytes (the format's heights,
    ///      times, counts and rounds).
    function _uint(bytes calldata data, uint256 start, uint256 len) private pure returns (uint256 value) {
        require(len <= 8 && (len == 0 || data[start] != 0), "LC: encoding");
        for (uint256 i = 0; i < len; ++i) {
            value = (value << 8) | uint8(data[start + i]);
        }
    }

    // ------------------------------------------------------------- RLP encode

    function _minimal(uint256 value) private pure returns (bytes memory out) {
        uint256 n = 0;
        for (uint256 v = value; v != 0; v >>= 8) ++n;
        out = new bytes(n);
        for (uint256 i = 0; i < n; ++i) {
            out[n - 1 - i] = bytes1(uint8(value >> (8 * i)));
        }
    }

    function _encodeUint(uint256 value) private pure returns (bytes memory) {
        return _encodeBytes(_minimal(value));
    }

    function _encodeBytes(bytes memory value) private pure returns (bytes memory) {
        if (value.length == 1 && uint8(value[0]) < 0x80) return value;
        return bytes.concat(_lengthPrefix(0x80, value.length), value);
    }

    function _encodeListPrefix(uint256 length) private pure returns (bytes memory) {
        return _lengthPrefix(0xc0, length);
    }

    function _lengthPrefix(uint8 base, uint256 length) private pure returns (bytes memory) {
        if (length <= 55) return abi.encodePacked(uint8(base + length));
        bytes memory len = _minimal(length);
        return bytes.concat(bytes1(uint8(base + 55 + len.length)), len);
    }
}
