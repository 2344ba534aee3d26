"""Notary signatures and equivocation evidence; API keys, readiness and metrics."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from core.errors import Conflict, InvalidInput, NotFound
from core.ids import ChainId
from core.records import (
    ChainRecord,
    EquivocationRecord,
    RouteProtocol,
    RouteRecord,
    SignatureRecord,
)
from core.states import TransferState
from gateway.store import SqlStore
from gateway.store.models import ApiKey
from tests.store.helpers import ROUTE_AB, A, B, new_transfer


def _sig(transfer_id: str, notary: str, digest: bytes, at: float = 1.0) -> SignatureRecord:
    return SignatureRecord(transfer_id, notary, digest, b"sig-" + notary.encode() + digest, at)


def test_signatures_are_stored_once_per_notary_in_order(store: SqlStore) -> None:
    record, _ = store.create_transfer(new_transfer(sequence=5), 1.0)
    d = b"\xdd" * 32
    assert store.add_signature(_sig(record.id, "n1", d), ROUTE_AB, 5) is None
    assert store.add_signature(_sig(record.id, "n2", d, 2.0), ROUTE_AB, 5) is None
    assert store.add_signature(_sig(record.id, "n1", d, 3.0), ROUTE_AB, 5) is None  # repeat
    assert store.signatures(record.id) == [_sig(record.id, "n1", d), _sig(record.id, "n2", d, 2.0)]
    assert store.equivocations() == []


def test_signatures_of_many_transfers_come_in_one_read_keyed_by_transfer(store: SqlStore) -> None:
    first, _ = store.create_transfer(new_transfer(sequence=6), 1.0)
    second, _ = store.create_transfer(new_transfer(sequence=7), 1.0)
    unsigned, _ = store.create_transfer(new_transfer(sequence=8), 1.0)
    d6, d7 = b"\x06" * 32, b"\x07" * 32
    store.add_signature(_sig(first.id, "n1", d6), ROUTE_AB, 6)
    store.add_signature(_sig(second.id, "n2", d7, 2.0), ROUTE_AB, 7)
    store.add_signature(_sig(first.id, "n2", d6, 3.0), ROUTE_AB, 6)
    found = store.signatures_of([first.id, second.id, unsigned.id])
    assert found == {
        first.id: store.signatures(first.id),
        second.id: store.signatures(second.id),
        unsigned.id: [],
    }
    assert [s.notary for s in found[first.id]] == ["n1", "n2"]
    assert store.signatures_of([]) == {}


def test_a_second_digest_for_one_sequence_is_equivocation_not_a_signature(
    store: SqlStore,
) -> None:
    record, _ = store.create_transfer(new_transfer(sequence=5), 1.0)
    honest, evil = b"\x01" * 32, b"\x02" * 32
    store.add_signature(_sig(record.id, "n1", honest), ROUTE_AB, 5)
    found = store.add_signature(_sig(record.id, "n1", evil, 9.0), ROUTE_AB, 5)
    assert isinstance(found, EquivocationRecord)
    assert (found.notary, found.route_id, found.sequence, found.at) == ("n1", ROUTE_AB, 5, 9.0)
    assert (found.digest_a, found.signature_a) == (honest, _sig(record.id, "n1", honest).signature)
    assert (found.digest_b, found.signature_b) == (evil, _sig(record.id, "n1", evil).signature)
    assert store.equivocations() == [found]
    assert [s.digest for s in store.signatures(record.id)] == [honest]  # not counted
    again = store.add_signature(_sig(record.id, "n1", evil, 10.0), ROUTE_AB, 5)
    assert again == found  # the same evidence is kept once
    assert store.equivocations() == [found]


def test_same_notary_on_another_sequence_is_not_equivocation(store: SqlStore) -> None:
    one, _ = store.create_transfer(new_transfer(sequence=1), 1.0)
    two, _ = store.create_transfer(new_transfer(sequence=2), 1.0)
    assert store.add_signature(_sig(one.id, "n1", b"\x01" * 32), ROUTE_AB, 1) is None
    assert store.add_signature(_sig(two.id, "n1", b"\x02" * 32), ROUTE_AB, 2) is None
    assert store.equivocations() == []


def test_signature_for_unknown_transfer_is_not_found(store: SqlStore) -> None:
    with pytest.raises(NotFound):
        store.add_signature(_sig("tr_missing", "n1", b"\x01" * 32), ROUTE_AB, 1)


def test_chains_and_routes_upsert_and_round_trip(store: SqlStore) -> None:
    settings = {"rpc": "http://127.0.0.1:8545", "key": b"\x01\x02", "pair": (1, 2**200)}
    store.upsert_chain(ChainRecord(A, "pujiang", settings, enabled=False))
    (a,) = [c for c in store.chains() if c.chain_id == A]
    assert (a.family, a.settings, a.enabled) == ("pujiang", settings, False)
    assert [c.chain_id for c in store.chains()] == sorted(c.chain_id for c in store.chains())
    route = RouteRecord("a-to-b", A, B, RouteProtocol.HTLC, {"timelock": 600}, enabled=False)
    store.upsert_route(route)
    assert store.route("a-to-b") == route
    assert route in store.routes()
    with pytest.raises(NotFound):
        store.route("missing")


def test_api_key_token_verifies_until_revoked_and_only_its_hash_is_stored(
    store: SqlStore,
) -> None:
    token = store.create_api_key("ops", "admin", 1.0)
    assert store.verify_api_key(token) == ("ops", "admin")
    assert store.verify_api_key(token + "x") is None
    assert store.verify_api_key("") is None
    with store.engine.connect() as conn:
        row = conn.execute(select(ApiKey.token_hash, ApiKey.created_at)).one()
    assert bytes(row.token_hash) == hashlib.sha256(token.encode()).digest()
    assert row.created_at == 1.0
    other = store.create_api_key("notary-1", "notary", 2.0)
    assert other != token
    store.revoke_api_key("ops")
    assert store.verify_api_key(token) is None
    assert store.verify_api_key(other) == ("notary-1", "notary")


def test_api_key_rules(store: SqlStore) -> None:
    store.create_api_key("app", "client", 1.0)
    with pytest.raises(Conflict):
        store.create_api_key("app", "client", 2.0)
    with pytest.raises(InvalidInput):
        store.create_api_key("root", "superuser", 1.0)
    with pytest.raises(NotFound):
        store.revoke_api_key("nobody")


def test_ping_and_counts_by_state(store: SqlStore) -> None:
    store.ping()
    counts = store.counts_by_state()
    assert set(counts) == set(TransferState)
    assert sum(counts.values()) == 0
    one, _ = store.create_transfer(new_transfer(), 1.0)
    store.create_transfer(new_transfer(), 1.0)
    store.transition(one.id, TransferState.REQUESTED, TransferState.REJECTED, "policy", 2.0)
    counts = store.counts_by_state()
    assert (counts[TransferState.REQUESTED], counts[TransferState.REJECTED]) == (1, 1)


def test_repr_never_shows_the_url(store_url: str) -> None:
    store = SqlStore(
        store_url.replace("postgresql+psycopg://postgres@", "postgresql+psycopg://postgres:s3cret@")
    )
    try:
        assert "s3cret" not in repr(store)
        assert store_url not in repr(store)
    finally:
        store.close()


def test_chain_id_type_survives(store: SqlStore) -> None:
    assert all(isinstance(c.chain_id, ChainId) for c in store.chains())


# --- statement kinds and the one "statements owed" query ----------------------------------


def _in_state(store: SqlStore, sequence: int, state: TransferState, at: float) -> str:
    """A transfer with its packet event recorded, moved to ``state`` (proven or timed_out)."""
    record, _ = store.create_transfer(
        new_transfer(
            sequence=sequence, state=TransferState.SOURCE_FINAL, source_tx=bytes([sequence]) * 32
        ),
        at,
    )
    nxt = TransferState.PROVEN if state is TransferState.PROVEN else TransferState.TIMED_OUT
    store.transition(
        record.id, TransferState.SOURCE_FINAL, nxt, "test", at, source_height=10 + sequence
    )
    return record.id


def test_a_notarys_delivery_and_nondelivery_of_one_packet_are_two_statements(
    store: SqlStore,
) -> None:
    record, _ = store.create_transfer(new_transfer(sequence=9), 1.0)
    delivery = SignatureRecord(record.id, "n1", b"\x01" * 32, b"s1", 1.0, "delivery")
    refund = SignatureRecord(record.id, "n1", b"\x02" * 32, b"s2", 2.0, "nondelivery")
    assert store.add_signature(delivery, ROUTE_AB, 9) is None
    assert store.add_signature(refund, ROUTE_AB, 9) is None  # another kind: no equivocation
    assert [s.kind for s in store.signatures(record.id)] == ["delivery", "nondelivery"]
    other = SignatureRecord(record.id, "n1", b"\x03" * 32, b"s3", 3.0, "nondelivery")
    evidence = store.add_signature(other, ROUTE_AB, 9)
    assert evidence is not None
    assert (evidence.kind, evidence.route_id, evidence.digest_a) == (
        "nondelivery",
        ROUTE_AB,
        b"\x02" * 32,
    )
    with pytest.raises(InvalidInput):
        store.add_signature(
            SignatureRecord(record.id, "n2", b"\x04" * 32, b"s4", 4.0, "refund"), ROUTE_AB, 9
        )


def test_statements_owed_are_delivery_of_proven_and_nondelivery_of_timed_out_oldest_first(
    store: SqlStore,
) -> None:
    proven = _in_state(store, 21, TransferState.PROVEN, 1.0)
    timed_out = _in_state(store, 22, TransferState.TIMED_OUT, 2.0)
    older_proven = _in_state(store, 23, TransferState.PROVEN, 0.5)
    store.create_transfer(new_transfer(sequence=24), 0.1)  # no event recorded: owes nothing
    owed = store.statements_owed("N1", 10)
    assert [(t.id, kind) for t, kind in owed] == [
        (older_proven, "delivery"),
        (proven, "delivery"),
        (timed_out, "nondelivery"),
    ]
    # n1 states delivery of the timed-out packet earlier: it still owes its non-delivery.
    store.add_signature(SignatureRecord(timed_out, "n1", b"\x05" * 32, b"s", 3.0), ROUTE_AB, 22)
    store.add_signature(SignatureRecord(proven, "n1", b"\x06" * 32, b"s", 3.0), ROUTE_AB, 21)
    owed = store.statements_owed("n1", 10)
    assert [(t.id, kind) for t, kind in owed] == [
        (older_proven, "delivery"),
        (timed_out, "nondelivery"),
    ]
    refund = SignatureRecord(timed_out, "n1", b"\x07" * 32, b"s", 4.0, "nondelivery")
    store.add_signature(refund, ROUTE_AB, 22)
    assert [t.id for t, _ in store.statements_owed("n1", 10)] == [older_proven]
    assert [t.id for t, _ in store.statements_owed("n2", 1)] == [older_proven]  # the limit
