"""``record_packets``' bulk path writes what the per-packet path writes, byte for byte
(issue #15): the same transfer rows, the same history lines with the same ids, the same
audit entries with the same hashes; and its statements do not grow with the chunk.

Two fresh stores get the same set-up and the same mixed chunk, one through
``_record_rowwise`` (the path before the bulk one) and one through ``_record_bulk``;
transfer ids come from a counter in both, so every table compares whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from sqlalchemy import event, select

from core.errors import InvalidInput
from core.ids import PacketId
from core.records import ChainRecord, RouteProtocol, RouteRecord, SeenPacket
from core.states import TransferState
from gateway.store import SqlStore
from gateway.store import sql as sql_module
from gateway.store.models import AuditEntry, AuditHead, HistoryEntry, Transfer
from tests.store.helpers import ROUTE_AB, ROUTE_BC, A, B, C, new_transfer
from tests.store.test_record_packets import seen

S = TransferState
NOW = 50.0
Path_ = Callable[..., int]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def twin_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty databases of one kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'one.db'}", f"sqlite:///{tmp_path / 'two.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    from tests.fixtures.postgres import _conninfo

    server = str(request.getfixturevalue("pg_server"))
    names = [f"pjgw_test_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    with psycopg.connect(_conninfo(server), autocommit=True) as admin:
        for name in names:
            admin.execute(f'CREATE DATABASE "{name}"')
    base = make_url(server).set(drivername="postgresql+psycopg")
    urls = [base.set(database=n).render_as_string(hide_password=False) for n in names]
    yield urls[0], urls[1]
    with psycopg.connect(_conninfo(server), autocommit=True) as admin:
        for name in names:
            with contextlib.suppress(psycopg.Error):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _CountingUuid:
    """``uuid`` for ``gateway.store.sql``: ids from a counter, the same in both stores."""

    def __init__(self) -> None:
        self._next = itertools.count(1)

    def uuid4(self) -> uuid.UUID:
        return uuid.UUID(int=next(self._next))


def _set_up(store: SqlStore) -> None:
    """Every kind of packet-less and tracked transfer a chunk may meet."""
    store.migrate()
    for chain in (A, B, C):
        store.upsert_chain(ChainRecord(chain, "evm"), now=30.0)
    store.upsert_route(RouteRecord(ROUTE_AB, A, B, RouteProtocol.NOTARY), now=30.0)
    store.upsert_route(RouteRecord(ROUTE_BC, B, C, RouteProtocol.NOTARY), now=30.0)
    store.record_packets([seen(1)], 40.0)  # recorded already: read again, left alone
    moved = store.transfer_by_packet(PacketId(A, B, 1))
    store.record_packets([seen(2)], 40.0)  # recorded, then moved on
    moved = store.transfer_by_packet(PacketId(A, B, 2))
    assert moved is not None
    store.transition(moved.id, S.REQUESTED, S.SOURCE_COMMITTED, "committed", 41.0)
    store.create_transfer(new_transfer(sequence=3, source_tx=b"\x03" * 32), 40.0)  # API, packet
    store.create_transfer(new_transfer(source_tx=b"\x10" * 32), 40.0)  # API: adopts
    store.create_transfer(new_transfer(source_tx=b"\x11" * 32, state=S.HELD), 40.0)
    store.create_transfer(new_transfer(source_tx=b"\x12" * 32, state=S.REJECTED), 40.0)


def _chunk() -> list[SeenPacket]:
    return [
        seen(1),
        seen(20),  # new
        seen(2),
        seen(21, tx=b"\x10" * 32),  # the API transfer of its tx adopts it
        seen(22, tx=b"\x10" * 32),  # a second packet of that tx: new
        seen(3, tx=b"\x03" * 32),  # the API transfer of the packet gets its event
        seen(23),
        seen(24, tx=b"\x11" * 32),  # bypasses a held request: new, the held one rejected
        seen(25, tx=b"\x11" * 32),
        seen(26, tx=b"\x12" * 32),  # bypasses a rejected request
        seen(20),  # twice in the chunk
        seen(27, tx=b"\x77" * 32),  # two packets of one new tx
        seen(28, tx=b"\x77" * 32),
        seen(29, state=S.HELD),  # a new transfer that is not ``requested``: created only
        seen(30),
    ]


def _tables(store: SqlStore) -> dict[str, list[tuple[Any, ...]]]:
    order = {
        "transfers": select(Transfer.__table__).order_by(Transfer.id),
        "history": select(HistoryEntry.__table__).order_by(HistoryEntry.id),
        "audit_log": select(AuditEntry.__table__).order_by(AuditEntry.seq),
        "audit_head": select(AuditHead.__table__),
    }
    with store.engine.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(q)] for name, q in order.items()}


def _record(
    url: str, path: Path_, chunk: Sequence[SeenPacket], *, final: bool = False
) -> tuple[int, dict[str, Any]]:
    store = SqlStore(url)
    try:
        with mock.patch.object(sql_module, "uuid", _CountingUuid()):
            _set_up(store)
            with mock.patch.object(sql_module, "_record_chunk", path):
                attached = store.record_packets(chunk, NOW, final=final)
        return attached, _tables(store)
    finally:
        store.close()


@pytest.mark.parametrize("final", [False, True], ids=["requested", "final"])
def test_a_mixed_chunk_in_bulk_writes_what_the_per_packet_path_writes(
    twin_urls: tuple[str, str], final: bool
) -> None:
    rowwise_url, bulk_url = twin_urls
    expected_attached, expected = _record(
        rowwise_url, sql_module._record_rowwise, _chunk(), final=final
    )
    attached, got = _record(bulk_url, sql_module._record_bulk, _chunk(), final=final)
    assert attached == expected_attached == 11
    for table in expected:
        assert got[table] == expected[table], table
    assert len(got["transfers"]) == 16  # 6 before, 10 new


def test_the_chunk_outcome_is_what_each_kind_of_packet_asks(store: SqlStore) -> None:
    """The comparison above is against the old path; this pins what that path does."""
    with mock.patch.object(sql_module, "uuid", _CountingUuid()):
        _set_up(store)
    store.record_packets(_chunk(), NOW)
    by_tx = {t.source_tx: t for t in store.list_transfers(limit=100)[0] if t.packet is None}
    assert by_tx[b"\x11" * 32].state is S.REJECTED  # the held request, bypassed
    for sequence, state, height in [(1, S.REQUESTED, 7), (2, S.SOURCE_COMMITTED, 7),
                                    (21, S.REQUESTED, 7), (29, S.HELD, None)]:  # fmt: skip
        got = store.transfer_by_packet(PacketId(A, B, sequence))
        assert got is not None
        assert (got.state, got.source_height) == (state, height), sequence
    adopted = store.transfer_by_packet(PacketId(A, B, 21))
    assert adopted is not None
    assert adopted.created_at == 40.0  # the API's transfer, not a new one


def _statements(store: SqlStore, chunk: Sequence[SeenPacket]) -> int:
    count = 0

    def counted(*_: object) -> None:
        nonlocal count
        count += 1

    event.listen(store.engine, "before_cursor_execute", counted)
    try:
        store.record_packets(chunk, NOW)
    finally:
        event.remove(store.engine, "before_cursor_execute", counted)
    return count


def test_new_packets_cost_the_same_statements_whatever_the_chunk_size(store: SqlStore) -> None:
    def fresh(sequence: int) -> SeenPacket:
        return seen(sequence, tx=sequence.to_bytes(32, "big"))

    small = _statements(store, [fresh(i) for i in range(1, 11)])
    large = _statements(store, [fresh(i) for i in range(100, 300)])
    assert small == large
    assert len(store.list_transfers(limit=1000)[0]) == 210


def test_a_bad_packet_after_good_ones_refuses_the_chunk_in_bulk_too(store: SqlStore) -> None:
    bad = dataclasses.replace(seen(3), source_height=-1)
    with pytest.raises(InvalidInput, match="outside"):
        store.record_packets([seen(1), seen(2), bad], NOW)
    assert store.list_transfers()[0] == []
    assert store.audit_entries(subject="transfer")[0] == []


def test_final_records_a_new_transfer_in_source_final_with_its_two_moves(store: SqlStore) -> None:
    with mock.patch.object(sql_module, "uuid", _CountingUuid()):
        _set_up(store)
    start = len(store.audit_entries(subject="transfer", limit=1000)[0])
    assert store.record_packets(_chunk(), NOW, final=True) == 11
    new = store.transfer_by_packet(PacketId(A, B, 20))
    assert new is not None
    assert (new.state, new.reason, new.source_height, new.next_attempt_at, new.attempts) == (
        S.SOURCE_FINAL,
        "block 7 final (the watcher read it from a finalized range)",
        7,
        NOW,
        0,
    )
    assert [(h.state, h.reason) for h in store.history(new.id)] == [
        (S.REQUESTED, f"packet seen on {A}"),
        (S.REQUESTED, "send_packet 20 seen in block 7"),
        (S.SOURCE_COMMITTED, f"send_packet recorded in its block of {A}"),
        (S.SOURCE_FINAL, "block 7 final (the watcher read it from a finalized range)"),
    ]
    entries = store.audit_entries(subject_id=new.id)[0]
    assert [(e["action"], e["before"], e["after"]) for e in entries] == [
        ("transfer.create", None, {"state": "requested", "tx_hash": "0x" + "14" * 32,
                                   "chain_id": str(A)}),
        ("transfer.source_event", None, {"state": "requested", "tx_hash": "0x" + "14" * 32,
                                         "chain_id": str(A)}),
        ("transfer.transition", {"state": "requested"}, {"state": "source_committed"}),
        ("transfer.transition", {"state": "source_committed"}, {"state": "source_final"}),
    ]  # fmt: skip
    # Transfers made before the call keep their steps: the API's, adopting its packet.
    for sequence in (3, 21):
        kept = store.transfer_by_packet(PacketId(A, B, sequence))
        assert kept is not None
        assert (kept.state, kept.source_height) == (S.REQUESTED, 7)
    created = store.audit_entries(subject="transfer", limit=1000)[0][start:]
    # 10 created, 11 events attached, 9 created and attached moved twice, the held closed:
    assert len(created) == 10 + 11 + 9 * 2 + 1


def test_final_defaults_to_off(store: SqlStore) -> None:
    store.record_packets([seen(1)], NOW)
    got = store.transfer_by_packet(PacketId(A, B, 1))
    assert got is not None
    assert got.state is S.REQUESTED


def test_the_relayer_store_passes_final_through(store: SqlStore) -> None:
    from relayer.async_store import AsyncStore

    relayer_store = AsyncStore(store, threads=1)
    try:
        assert asyncio.run(relayer_store.record_packets([seen(1)], NOW, final=True)) == 1
    finally:
        relayer_store.close()
    got = store.transfer_by_packet(PacketId(A, B, 1))
    assert got is not None
    assert got.state is S.SOURCE_FINAL
