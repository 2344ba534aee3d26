"""proofs.evm.client: the EVM light client behind the LightClient seam (pure, synthetic chains).

Start from a valid fixture and break exactly one thing per case; the exact
error class and ``details["check"]`` are asserted. The anvil end-to-end tests
(``tests/evm/test_adapter_proofs.py``) run the same client on real blocks.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
import rlp

from core.errors import (
    BadEncoding,
    BadProof,
    ClientFrozen,
    HeaderExpired,
    InsufficientPower,
    InvalidHeader,
    InvalidInput,
    RootMismatch,
    ValueMismatch,
)
from core.ids import ChainId
from core.seams import LightClient
from core.types import HeaderUpdate, InclusionProof
from proofs.evm.bft import BftFinality, BftVariant, compute_bft_block_hash
from proofs.evm.client import (
    PROOF_KIND,
    EvmClientState,
    EvmConsensusState,
    EvmLightClient,
    decode_header_evidence,
    decode_log_key,
    encode_header_evidence,
    encode_log,
    encode_log_key,
    freeze_client,
)
from proofs.evm.finality import ConfirmationDepth
from proofs.evm.header import (
    EMPTY_OMMERS_HASH,
    EMPTY_TRIE_ROOT,
    EvmHeader,
    compute_header_hash,
    encode_header,
    header_from_rpc,
)
from proofs.mpt import Log, Receipt, prove_receipt, receipts_root

CHAIN = ChainId("evm-test")
T0 = 1_700_000_000
PERIOD = 3600
STATE = EvmClientState(chain_id=CHAIN, trusting_period=PERIOD, max_clock_drift=15, max_headers=64)
DEPTH = 2
CLIENT = EvmLightClient(ConfirmationDepth(DEPTH))

BRIDGE = b"\xb7" * 20
TOPIC = b"\x5e" * 32
RECEIPTS = [
    Receipt(tx_type=2, status=1, cumulative_gas_used=21_000, logs_bloom=bytes(256)),
    Receipt(
        tx_type=2,
        status=1,
        cumulative_gas_used=90_000,
        logs_bloom=bytes(256),
        logs=(Log(BRIDGE, (TOPIC, b"\x01" * 32), b"packet-1"), Log(b"\x11" * 20, (), b"x")),
    ),
    Receipt(
        tx_type=0,
        status=0,
        cumulative_gas_used=120_000,
        logs_bloom=bytes(256),
    ),
    Receipt(
        tx_type=2,
        status=1,
        cumulative_gas_used=180_000,
        logs_bloom=bytes(256),
        logs=(Log(BRIDGE, (TOPIC, b"\x02" * 32), b"packet-2"),),
    ),
]
LOGS = [(tx, i) for tx, r in enumerate(RECEIPTS) for i in range(len(r.logs))]
EVENT_BLOCK = 3  # the block whose receiptsRoot commits to RECEIPTS


def _chain(length: int, *, salt: bytes = b"\x00", fork_at: int | None = None) -> list[EvmHeader]:
    """Prague-layout headers 0..length-1, linked; ``salt`` changes blocks from ``fork_at`` on."""
    headers: list[EvmHeader] = []
    for number in range(length):
        forked = fork_at is not None and number >= fork_at
        headers.append(
            EvmHeader(
                parent_hash=compute_header_hash(headers[-1]) if headers else bytes(32),
                ommers_hash=EMPTY_OMMERS_HASH,
                coinbase=b"\xc0" * 20,
                state_root=(salt if forked else b"\x00") + bytes([number % 256]) * 31,
                transactions_root=EMPTY_TRIE_ROOT,
                receipts_root=receipts_root(RECEIPTS) if number == EVENT_BLOCK else EMPTY_TRIE_ROOT,
                logs_bloom=bytes(256),
                difficulty=0,
                number=number,
                gas_limit=30_000_000,
                gas_used=0,
                timestamp=T0 + 2 * number,
                extra_data=b"",
                mix_hash=bytes(32),
                nonce=bytes(8),
                base_fee_per_gas=10**9,
                withdrawals_root=EMPTY_TRIE_ROOT,
                blob_gas_used=0,
                excess_blob_gas=0,
                parent_beacon_block_root=bytes(32),
                requests_hash=bytes(32),
            )
        )
    return headers


HEADERS = _chain(12)


def _consensus(index: int, headers: list[EvmHeader] = HEADERS) -> EvmConsensusState:
    header = headers[index]
    return CLIENT.consensus_state_from_checkpoint(CHAIN, header, compute_header_hash(header))


def _update(
    trusted: int, target: int, depth: int = DEPTH, headers: list[EvmHeader] = HEADERS
) -> HeaderUpdate:
    header = headers[target]
    return HeaderUpdate(
        chain_id=CHAIN,
        height=header.number,
        hash=compute_header_hash(header),
        time=header.timestamp,
        encoded=encode_header(header),
        evidence=encode_header_evidence(
            headers[trusted + 1 : target], headers[target + 1 : target + 1 + depth]
        ),
    )


def _now(target: int = 6) -> int:
    return HEADERS[target].timestamp + 1


# --- verify_header ------------------------------------------------------------------------


def test_the_light_client_implements_the_seam() -> None:
    assert isinstance(CLIENT, LightClient)


def test_adjacent_header_with_its_confirmations_verifies() -> None:
    state = CLIENT.verify_header(STATE, _consensus(4), _update(4, 5), _now())
    assert state.height == 5
    assert state.hash == compute_header_hash(HEADERS[5])
    assert state.header == HEADERS[5]
    assert state.chain_id == CHAIN
    assert state.receipts_root == HEADERS[5].receipts_root


def test_skipping_verification_carries_every_ancestor() -> None:
    state = CLIENT.verify_header(STATE, _consensus(0), _update(0, 7), _now(9))
    assert state.height == 7


def test_depth_zero_makes_the_newest_linked_header_final() -> None:
    client = EvmLightClient(ConfirmationDepth(0))
    assert client.verify_header(STATE, _consensus(2), _update(2, 3, depth=0), _now()).height == 3


def _with(update: HeaderUpdate, **changes: Any) -> HeaderUpdate:
    return dataclasses.replace(update, **changes)


MALLEATE_HEADER = [
    # (name, client state, trusted index, update, now, error, check)
    ("frozen", freeze_client(STATE, 3), 4, _update(4, 5), _now(), ClientFrozen, None),
    (
        "other-chain",
        STATE,
        4,
        _with(_update(4, 5), chain_id=ChainId("other")),
        _now(),
        InvalidHeader,
        "chain-id",
    ),
    ("expired", STATE, 4, _update(4, 5), HEADERS[4].timestamp + PERIOD, HeaderExpired, None),
    ("not-rlp", STATE, 4, _with(_update(4, 5), encoded=b"\xff\x00"), _now(), BadEncoding, None),
    (
        "envelope-height",
        STATE,
        4,
        _with(_update(4, 5), height=6),
        _now(),
        InvalidHeader,
        "envelope",
    ),
    (
        "envelope-time",
        STATE,
        4,
        _with(_update(4, 5), time=HEADERS[5].timestamp + 1),
        _now(),
        InvalidHeader,
        "envelope",
    ),
    (
        "hash-mismatch",
        STATE,
        4,
        _with(_update(4, 5), hash=compute_header_hash(HEADERS[6])),
        _now(),
        RootMismatch,
        "hash",
    ),
    (
        "forged-receipts-root",
        STATE,
        2,
        _with(
            _update(2, 3),
            encoded=encode_header(HEADERS[3].replace(receipts_root=b"\x66" * 32)),
        ),
        _now(),
        RootMismatch,
        "hash",
    ),
    ("not-above-trusted", STATE, 5, _update(4, 5), _now(), InvalidHeader, "number"),
    (
        "from-the-future",
        STATE,
        4,
        _update(4, 5),
        HEADERS[5].timestamp - 16,
        InvalidHeader,
        "future",
    ),
    ("missing-ancestor", STATE, 2, _update(3, 5), _now(), InvalidHeader, "segment"),
    (
        "too-many-headers",
        dataclasses.replace(STATE, max_headers=4),
        0,
        _update(0, 5),
        _now(),
        InvalidHeader,
        "segment",
    ),
    (
        "evidence-not-rlp",
        STATE,
        4,
        _with(_update(4, 5), evidence=b"\xc1"),
        _now(),
        BadEncoding,
        None,
    ),
    (
        "evidence-shape",
        STATE,
        4,
        _with(_update(4, 5), evidence=rlp.encode([[], [], []])),
        _now(),
        BadEncoding,
        None,
    ),
    (
        "broken-ancestor",
        STATE,
        2,
        _with(
            _update(2, 5),
            evidence=encode_header_evidence(
                [HEADERS[3], HEADERS[4].replace(state_root=b"\x99" * 32)], HEADERS[6:8]
            ),
        ),
        _now(),
        RootMismatch,
        "parent-hash",
    ),
    ("not-final-yet", STATE, 4, _update(4, 5, depth=1), _now(), InsufficientPower, None),
]


@pytest.mark.parametrize(
    ("client_state", "trusted", "update", "now", "error", "check"),
    [case[1:] for case in MALLEATE_HEADER],
    ids=[case[0] for case in MALLEATE_HEADER],
)
def test_verify_header_rejects_one_broken_thing(
    client_state: EvmClientState,
    trusted: int,
    update: HeaderUpdate,
    now: int,
    error: type[Exception],
    check: str | None,
) -> None:
    with pytest.raises(error) as info:
        CLIENT.verify_header(client_state, _consensus(trusted), update, now)
    assert type(info.value) is error
    if check is not None:
        assert info.value.details["check"] == check


def test_the_header_just_inside_the_trusting_period_and_drift_verifies() -> None:
    update = _update(4, 5)
    assert CLIENT.verify_header(STATE, _consensus(4), update, HEADERS[4].timestamp + PERIOD - 1)
    assert CLIENT.verify_header(STATE, _consensus(4), update, HEADERS[5].timestamp - 15)


def test_states_of_the_wrong_type_are_invalid_input() -> None:
    with pytest.raises(InvalidInput):
        CLIENT.verify_header(object(), _consensus(4), _update(4, 5), _now())
    with pytest.raises(InvalidInput):
        CLIENT.verify_header(STATE, HEADERS[4], _update(4, 5), _now())


def test_checkpoint_with_another_hash_is_refused() -> None:
    with pytest.raises(RootMismatch) as info:
        CLIENT.consensus_state_from_checkpoint(CHAIN, HEADERS[3], compute_header_hash(HEADERS[4]))
    assert info.value.details["check"] == "checkpoint"


@pytest.mark.parametrize(
    "changes",
    [
        {"trusting_period": 0},
        {"max_headers": 0},
        {"max_clock_drift": -1},
        {"trusting_period": True},
    ],
)
def test_client_state_bounds_are_checked(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        dataclasses.replace(STATE, **changes)


# --- the finality policy is pluggable: QBFT seals from the committed vectors ---------------

QBFT = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "qbft" / "qbft_chain.json").read_text()
)


def test_bft_policy_verifies_the_qbft_vector_chain_from_genesis() -> None:
    client = EvmLightClient(BftFinality(BftVariant.QBFT))
    genesis = header_from_rpc(QBFT["genesis"])
    headers = [header_from_rpc(h) for h in QBFT["headers"]]
    trusted = client.consensus_state_from_checkpoint(
        CHAIN, genesis, bytes.fromhex(QBFT["genesis"]["hash"][2:])
    )
    target = headers[-1]
    update = HeaderUpdate(
        chain_id=CHAIN,
        height=target.number,
        hash=compute_bft_block_hash(target, BftVariant.QBFT),
        time=target.timestamp,
        encoded=encode_header(target),
        evidence=encode_header_evidence(headers[:-1], []),
    )
    state = client.verify_header(STATE, trusted, update, target.timestamp)
    assert state.hash.hex() == QBFT["headers"][-1]["hash"][2:]
    # the plain keccak hash is not a BFT chain's block hash
    with pytest.raises(RootMismatch):
        client.verify_header(
            STATE, trusted, _with(update, hash=compute_header_hash(target)), target.timestamp
        )


# --- verify_membership ----------------------------------------------------------------------

EVENT_STATE = CLIENT.verify_header(STATE, _consensus(2), _update(2, 3), _now())


def _proof(tx: int, log_index: int, **changes: Any) -> InclusionProof:
    _, nodes = prove_receipt(RECEIPTS, tx)
    proof = InclusionProof(
        chain_id=CHAIN,
        height=EVENT_BLOCK,
        kind=PROOF_KIND,
        key=encode_log_key(tx, log_index),
        value=encode_log(RECEIPTS[tx].logs[log_index]),
        nodes=tuple(nodes),
    )
    return dataclasses.replace(proof, **changes)


@pytest.mark.parametrize(("tx", "log_index"), LOGS)
def test_every_log_of_the_block_verifies(tx: int, log_index: int) -> None:
    CLIENT.verify_membership(EVENT_STATE, _proof(tx, log_index))
    assert CLIENT.verify_log(EVENT_STATE, _proof(tx, log_index)) == RECEIPTS[tx].logs[log_index]


def _flip(nodes: tuple[bytes, ...], depth: int) -> tuple[bytes, ...]:
    node = bytearray(nodes[depth])
    node[len(node) // 2] ^= 0x01
    return (*nodes[:depth], bytes(node), *nodes[depth + 1 :])


GOOD = _proof(1, 0)
MALLEATE_PROOF = [
    ("kind", dataclasses.replace(GOOD, kind="rfc6962"), BadProof, "kind"),
    ("chain", dataclasses.replace(GOOD, chain_id=ChainId("other")), BadProof, "chain-id"),
    ("height", dataclasses.replace(GOOD, height=EVENT_BLOCK + 1), BadProof, "height"),
    ("key-not-rlp", dataclasses.replace(GOOD, key=b"\xff"), BadEncoding, None),
    ("key-shape", dataclasses.replace(GOOD, key=rlp.encode([1])), BadEncoding, None),
    (
        "key-leading-zero",
        dataclasses.replace(GOOD, key=rlp.encode([b"\x00\x01", 0])),
        BadEncoding,
        None,
    ),
    (
        "flipped-root-node",
        dataclasses.replace(GOOD, nodes=_flip(GOOD.nodes, 0)),
        RootMismatch,
        None,
    ),
    (
        "flipped-inner-node",
        dataclasses.replace(GOOD, nodes=_flip(GOOD.nodes, len(GOOD.nodes) - 1)),
        BadProof,
        None,
    ),
    ("truncated", dataclasses.replace(GOOD, nodes=GOOD.nodes[:-1]), BadProof, None),
    (
        "log-index-not-in-receipt",
        dataclasses.replace(GOOD, key=encode_log_key(1, 2)),
        ValueMismatch,
        None,
    ),
    (
        "other-log-value",
        dataclasses.replace(GOOD, value=encode_log(RECEIPTS[1].logs[1])),
        ValueMismatch,
        None,
    ),
    ("another-receipts-proof", dataclasses.replace(GOOD, key=encode_log_key(3, 0)), BadProof, None),
    (
        "failed-transaction",
        dataclasses.replace(
            GOOD, key=encode_log_key(2, 0), nodes=tuple(prove_receipt(RECEIPTS, 2)[1])
        ),
        ValueMismatch,
        None,
    ),
]


@pytest.mark.parametrize(
    ("proof", "error", "check"),
    [case[1:] for case in MALLEATE_PROOF],
    ids=[case[0] for case in MALLEATE_PROOF],
)
def test_verify_membership_rejects_one_broken_thing(
    proof: InclusionProof, error: type[Exception], check: str | None
) -> None:
    with pytest.raises(error) as info:
        CLIENT.verify_membership(EVENT_STATE, proof)
    assert type(info.value) is error
    if check is not None:
        assert info.value.details["check"] == check


def test_a_proof_against_another_block_fails_at_the_root() -> None:
    other = CLIENT.verify_header(STATE, _consensus(3), _update(3, 4), _now())
    with pytest.raises(BadProof):  # the height check comes first ...
        CLIENT.verify_membership(other, GOOD)
    with pytest.raises(RootMismatch):  # ... and the root catches a relabelled proof
        CLIENT.verify_membership(other, dataclasses.replace(GOOD, height=4))


# --- misbehaviour ---------------------------------------------------------------------------

FORK = _chain(12, salt=b"\x77", fork_at=5)


def test_two_final_headers_at_one_height_are_misbehaviour_and_freeze_the_client() -> None:
    trusted = _consensus(4)
    a = _update(4, 6)
    b = _update(4, 6, headers=FORK)
    assert a.hash != b.hash
    assert CLIENT.check_misbehaviour(STATE, a, b, trusted=trusted, now=_now())
    frozen = freeze_client(STATE, a.height)
    assert frozen.is_frozen
    assert frozen.frozen_height == 6
    assert freeze_client(frozen, 9) is frozen  # the first freeze height stays
    with pytest.raises(ClientFrozen):
        CLIENT.verify_header(frozen, trusted, _update(4, 5), _now())
    with pytest.raises(ClientFrozen):
        CLIENT.check_misbehaviour(frozen, a, b, trusted=trusted, now=_now())


def test_the_same_header_twice_or_two_heights_are_not_misbehaviour() -> None:
    trusted = _consensus(4)
    assert not CLIENT.check_misbehaviour(
        STATE, _update(4, 6), _update(4, 6), trusted=trusted, now=_now()
    )
    assert not CLIENT.check_misbehaviour(
        STATE, _update(4, 6), _update(4, 7, headers=FORK), trusted=trusted, now=_now()
    )


def test_a_conflicting_header_that_does_not_verify_is_not_evidence() -> None:
    trusted = _consensus(4)
    forged = _with(_update(4, 6, headers=FORK), evidence=encode_header_evidence([FORK[5]], []))
    with pytest.raises(InsufficientPower):
        CLIENT.check_misbehaviour(STATE, _update(4, 6), forged, trusted=trusted, now=_now())


def test_misbehaviour_needs_the_trusted_state_and_the_time() -> None:
    with pytest.raises(InvalidInput):
        CLIENT.check_misbehaviour(STATE, _update(4, 6), _update(4, 6, headers=FORK))


# --- encodings ------------------------------------------------------------------------------


def test_header_evidence_round_trips() -> None:
    evidence = encode_header_evidence(HEADERS[1:3], HEADERS[4:6])
    assert decode_header_evidence(evidence) == (HEADERS[1:3], HEADERS[4:6])
    assert decode_header_evidence(b"") == ([], [])
    with pytest.raises(BadEncoding):
        decode_header_evidence(rlp.encode([[b"not a header"], []]))


def test_log_key_round_trips_and_rejects_negative_indices() -> None:
    assert decode_log_key(encode_log_key(0, 0)) == (0, 0)
    assert decode_log_key(encode_log_key(513, 7)) == (513, 7)
    with pytest.raises(InvalidInput):
        encode_log_key(-1, 0)
    with pytest.raises(InvalidInput):
        encode_log_key(0, True)
