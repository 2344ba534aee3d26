"""Pujiang transactions assembled from encoded parts equal the ``TxBody`` / ``Transaction``
sedes path they replaced, byte for byte (``codec.encode_tx_body``, ``tx_signing_message_of``,
``encode_signed_tx``; ``actions.build_signed_tx`` and ``tx_args_rlp``).

The reference is the code before the change, kept here: ``args`` turned into raw lists,
a ``TxBody``, ``compute_tx_signing_message`` and ``rlp.encode(Transaction(...))``. Ed25519
signs deterministically, so whole signed transactions are compared; SM2 does not, so on a
``gm`` chain the signing message and the assembly around a signature are compared.
A batch action's members are spliced in as they came after a strict decode: mutated
payloads are either refused by both paths or give the same transaction.
"""

from __future__ import annotations

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.pujiang import actions
from adapters.pujiang.bridge import PujiangBridge, to_wire_packet, wire_packet_rlp
from core.batches import BatchKind, BatchMember, BatchStatement
from core.errors import InvalidInput
from core.ids import ChainId
from core.types import Packet
from proofs.pujiang import codec
from proofs.pujiang.codec import BatchMembers
from tests.proofs.pujiang.test_fast_decode import PACKETS, UINT

SETTINGS = settings(max_examples=200, deadline=None)
SIGNER = actions.TxSigner(bytes(range(32)))
CHAIN = "pujiang-devnet"

RAW_ARGS = st.recursive(
    st.binary(max_size=70) | UINT,
    lambda inner: st.lists(inner, max_size=5),
    max_leaves=20,
)
STATEMENTS = st.builds(
    codec.BatchStatement,
    source_chain=st.binary(max_size=20),
    dest_chain=st.binary(max_size=20),
    epoch=UINT,
    kind=st.integers(0, 3),
    size=st.integers(1, 256),
    root=st.binary(min_size=32, max_size=32),
)
MEMBERS = st.lists(
    st.builds(
        codec.BatchMember,
        packet=PACKETS,
        index=st.integers(0, 255),
        proof=st.lists(st.binary(min_size=32, max_size=32), max_size=8),
    ),
    min_size=1,
    max_size=6,
)


def as_lists(item: object) -> object:
    """Decoded raw args (tuples) as the lists ``to_raw`` gives."""
    return list(map(as_lists, item)) if isinstance(item, list | tuple) else item


def reference_signed_tx(nonce: int, kind: str, args: object) -> bytes:
    """``build_signed_tx`` as it was: through ``TxBody`` and ``Transaction``."""
    body = codec.TxBody(
        chain_id=CHAIN.encode(), nonce=nonce, kind=kind.encode(), args=codec.to_raw(args)
    )
    message = codec.compute_tx_signing_message(body)
    signature = SIGNER._signer.sign_digest(message)
    return codec.encode(codec.Transaction(body=body, pubkey=SIGNER.pubkey, signature=signature))


def reference_batch_tx(nonce: int, kind: str, payload: dict[str, object]) -> bytes:
    """A batch action's transaction as it was: members decoded, then encoded again."""
    return reference_signed_tx(nonce, kind, actions.tx_args(kind, payload))


@SETTINGS
@given(nonce=UINT, kind=st.sampled_from(["bridge_send", "anchor", "x"]), args=st.lists(RAW_ARGS))
def test_a_signed_transaction_is_the_sedes_path_byte_for_byte(
    nonce: int, kind: str, args: list[object]
) -> None:
    tx = actions.build_signed_tx(SIGNER, CHAIN, nonce, kind, args)
    assert tx == reference_signed_tx(nonce, kind, args)
    assert as_lists(codec.decode_transaction(tx).body.args) == codec.to_raw(args)


@SETTINGS
@given(
    nonce=UINT,
    args=st.lists(RAW_ARGS),
    pubkey=st.binary(min_size=65, max_size=65),
    signature=st.binary(min_size=64, max_size=64),
)
def test_the_parts_of_a_gm_transaction_are_the_sedes_parts(
    nonce: int, args: list[object], pubkey: bytes, signature: bytes
) -> None:
    """SM2 signatures are randomised, so the parts around one are compared (a 65-byte key)."""
    body = codec.TxBody(chain_id=b"gm", nonce=nonce, kind=b"bridge_send", args=codec.to_raw(args))
    body_rlp = codec.encode_tx_body(b"gm", nonce, b"bridge_send", rlp.encode(codec.to_raw(args)))
    assert body_rlp == rlp.encode(body)
    assert codec.tx_signing_message_of(body_rlp) == codec.compute_tx_signing_message(body)
    assert codec.encode_signed_tx(body_rlp, pubkey, signature) == codec.encode(
        codec.Transaction(body=body, pubkey=pubkey, signature=signature)
    )


@SETTINGS
@given(
    nonce=UINT,
    kind=st.sampled_from(actions.BATCH_KINDS),
    statement=STATEMENTS,
    members=MEMBERS,
)
def test_a_batch_transaction_splices_its_members_as_the_sedes_path_encodes_them(
    nonce: int, kind: str, statement: codec.BatchStatement, members: list[codec.BatchMember]
) -> None:
    action = actions.batch_members_action(
        kind, statement, [codec.encode(m) for m in members], idempotency_key="k"
    )
    args_rlp = actions.tx_args_rlp(kind, action.payload)
    tx = actions.build_signed_tx_rlp(SIGNER, CHAIN, nonce, kind, args_rlp)
    assert tx == reference_batch_tx(nonce, kind, dict(action.payload))
    decoded = codec.decode_transaction(tx)
    assert as_lists(decoded.body.args) == codec.to_raw([statement, members])
    # what the adapter names the transaction without decoding it again
    assert codec.compute_tx_hash(decoded) == codec.SHA256(tx)


MUTATIONS = st.sampled_from(["flip", "truncate", "append", "zero-prefix"])


def mutate(data: bytes, how: str, at: int) -> bytes:
    at %= len(data)
    if how == "flip":
        return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]
    if how == "truncate":
        return data[:at]
    if how == "append":
        return data + b"\x00"
    return data[:at] + b"\x00" + data[at:]


def outcome(build: object) -> object:
    try:
        return build()  # type: ignore[operator]
    except InvalidInput:
        return "refused"


@SETTINGS
@given(
    statement=STATEMENTS,
    members=MEMBERS,
    field=st.sampled_from(["statement", "members"]),
    how=MUTATIONS,
    at=st.integers(0, 10_000),
)
def test_a_damaged_batch_payload_is_refused_by_both_paths_or_signed_the_same(
    statement: codec.BatchStatement,
    members: list[codec.BatchMember],
    field: str,
    how: str,
    at: int,
) -> None:
    kind = actions.BRIDGE_RECV_BATCH
    payload = dict(
        actions.batch_members_action(
            kind, statement, [codec.encode(m) for m in members], idempotency_key="k"
        ).payload
    )
    damaged = mutate(actions.payload_bytes(payload, field), how, at)
    payload[field] = "0x" + damaged.hex()
    fast = outcome(
        lambda: actions.build_signed_tx_rlp(
            SIGNER, CHAIN, 7, kind, actions.tx_args_rlp(kind, payload)
        )
    )
    assert fast == outcome(lambda: reference_batch_tx(7, kind, payload))


@pytest.mark.parametrize("args_rlp", [b"", b"\x80", b"\x05"], ids=["empty", "empty-string", "byte"])
def test_args_that_are_not_an_rlp_list_are_refused_before_signing(args_rlp: bytes) -> None:
    with pytest.raises(InvalidInput, match=r"a transaction's args are an RLP list$"):
        codec.encode_tx_body(b"c", 0, b"k", args_rlp)


def test_a_negative_nonce_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"a nonce is a non-negative integer$"):
        actions.build_signed_tx(SIGNER, CHAIN, -1, "anchor", [bytes(32)])


# --- the bridge's leaves and members, assembled from a core packet's fields -------------

SOURCE, DEST = ChainId("evm-a"), ChainId("pj-devnet")
BRIDGE = PujiangBridge(DEST)
CORE_PACKETS = st.builds(
    Packet,
    source_chain=st.just(SOURCE),
    dest_chain=st.just(DEST),
    sequence=UINT,
    sender=st.binary(max_size=40),
    receiver=st.binary(max_size=40),
    denom=st.text(max_size=12),
    amount=UINT,
    payload=st.binary(max_size=120),
    timeout_height=UINT,
    timeout_time_ms=UINT,
)


@SETTINGS
@given(packet=CORE_PACKETS)
def test_a_packets_leaf_and_rlp_are_the_sedes_objects(packet: Packet) -> None:
    wire = to_wire_packet(packet)
    assert wire_packet_rlp(packet) == rlp.encode(wire)
    assert BRIDGE.batch_leaf(packet) == codec.compute_packet_digest(wire)
    assert BRIDGE.delivery_digest(packet) == codec.compute_packet_digest(wire)


@SETTINGS
@given(
    packets=st.lists(CORE_PACKETS, min_size=1, max_size=5),
    proof=st.lists(st.binary(min_size=32, max_size=32), max_size=8),
    kind=st.sampled_from(list(BatchKind)),
)
def test_a_batch_actions_members_are_the_sedes_encoding(
    packets: list[Packet], proof: list[bytes], kind: BatchKind
) -> None:
    statement = BatchStatement(str(SOURCE), str(DEST), 1, kind, len(packets), bytes(32))
    members = [BatchMember(p, i, tuple(proof)) for i, p in enumerate(packets)]
    acting = BRIDGE if kind is BatchKind.DELIVERY else PujiangBridge(SOURCE)  # refunds, acks
    action = acting.batch_action(statement, members)
    reference = [codec.BatchMember(to_wire_packet(p), i, proof) for i, p in enumerate(packets)]
    expected = rlp.encode(reference, sedes=BatchMembers)
    assert actions.payload_bytes(action.payload, "members") == expected


@pytest.mark.parametrize(
    ("proof", "message"),
    [
        ([bytes(31)], "a batch proof is at most 8 hashes of 32 bytes"),
        ([bytes(32)] * 9, "a batch proof is at most 8 hashes of 32 bytes"),
    ],
    ids=["short-hash", "long-proof"],
)
def test_a_member_the_sedes_would_refuse_is_refused(proof: list[bytes], message: str) -> None:
    packet_rlp = rlp.encode(codec.Packet(b"a", b"b", 1, b"", b"", b"d", 1, b"", 0, 0))
    with pytest.raises(InvalidInput, match=message):
        codec.batch_member_rlp(packet_rlp, 0, proof)
