"""Committee rotations in the store (``gateway/store/rotations.py``, migration 0011) on SQLite
and PostgreSQL: one open rotation per chain, compare-and-set states, one signature per
notary, what is in flight for a chain, every change audited; 0011 goes down and up."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from core.committee import RotationState, RotationStatement
from core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from core.ids import ChainId
from core.records import ChainRecord, RouteProtocol, RouteRecord
from gateway.store import SqlStore
from gateway.store.migrate import current_revision

SRC, DST, OTHER = ChainId("pj-1"), ChainId("evm-1"), ChainId("evm-2")
A, B, C = ("0x" + c * 40 for c in "abc")
TABLES = {"committee_rotations", "rotation_signatures"}


@pytest.fixture
def store(store_url: str) -> SqlStore:
    made = SqlStore(store_url)
    made.migrate()
    made.upsert_chain(ChainRecord(SRC, "pujiang"))
    made.upsert_chain(ChainRecord(DST, "evm"))
    made.upsert_route(RouteRecord("r", SRC, DST, RouteProtocol.NOTARY))
    yield made
    made.close()


def statement(epoch: int = 2, chain: ChainId = DST) -> RotationStatement:
    return RotationStatement.make(chain, epoch, 2, [C, A, B])


def test_a_rotation_is_stored_draining_and_read_back_audited(store: SqlStore) -> None:
    made = store.create_rotation("r", statement(), 10.0, requested_by="ops")
    assert made.state is RotationState.DRAINING
    assert made.hold_since == 10.0
    assert store.rotation(made.id) == made
    assert made.statement.members == (A, B, C)
    assert [r.id for r in store.rotations(open_only=True)] == [made.id]
    (entry,), _ = store.audit_entries(action="rotation.request")
    assert entry["subject_id"] == made.id
    assert entry["after"]["members"] == [A, B, C]


@pytest.mark.parametrize(
    ("route", "chain", "error", "refusal"),
    [
        ("nope", DST, NotFound, "route 'nope' not found"),
        ("r", OTHER, InvalidInput, "does not touch evm-2"),
    ],
)
def test_a_rotation_of_an_unknown_route_or_a_chain_it_does_not_touch_is_refused(
    store: SqlStore, route: str, chain: ChainId, error: type[Exception], refusal: str
) -> None:
    with pytest.raises(error, match=refusal):
        store.create_rotation(route, statement(chain=chain), 1.0, requested_by="ops")


def test_one_open_rotation_per_chain_and_a_done_epoch_is_not_asked_again(
    store: SqlStore,
) -> None:
    first = store.create_rotation("r", statement(), 1.0, requested_by="ops")
    with pytest.raises(Conflict, match="is still open"):
        store.create_rotation("r", statement(3), 2.0, requested_by="ops")
    store.set_rotation_state(first.id, RotationState.DRAINING, RotationState.DONE, 3.0)
    with pytest.raises(Conflict, match="epoch 2 of evm-1 is done"):
        store.create_rotation("r", statement(), 4.0, requested_by="ops")
    assert store.create_rotation("r", statement(3), 5.0, requested_by="ops").state is (
        RotationState.DRAINING
    )


def test_states_move_by_compare_and_set_and_each_move_is_audited(store: SqlStore) -> None:
    made = store.create_rotation("r", statement(), 1.0, requested_by="ops")
    sent = store.set_rotation_state(
        made.id, RotationState.DRAINING, RotationState.SUBMITTED, 2.0, note="drained"
    )
    with pytest.raises(InvalidTransition, match="is submitted, not draining"):
        store.set_rotation_state(made.id, RotationState.DRAINING, RotationState.SUBMITTED, 3.0)
    with_hash = store.set_rotation_state(
        made.id, RotationState.SUBMITTED, RotationState.SUBMITTED, 3.0, tx_hash=b"\x07" * 32
    )
    assert (sent.note, with_hash.tx_hash) == ("drained", b"\x07" * 32)
    done = store.set_rotation_state(made.id, RotationState.SUBMITTED, RotationState.DONE, 4.0)
    with pytest.raises(InvalidTransition):
        store.set_rotation_state(made.id, RotationState.DONE, RotationState.DRAINING, 5.0)
    assert done.state is RotationState.DONE
    assert store.rotations(open_only=True) == []
    actions = [e["action"] for e in store.audit_entries(subject="rotation")[0]]
    assert actions == [
        "rotation.request",
        "rotation.submitted",
        "rotation.submitted",
        "rotation.done",
    ]


def test_a_notarys_signature_is_kept_once(store: SqlStore) -> None:
    made = store.create_rotation("r", statement(), 1.0, requested_by="ops")
    assert store.add_rotation_signature(made.id, A.upper().replace("0X", "0x"), b"d", b"s", 2.0)
    assert not store.add_rotation_signature(made.id, A, b"d", b"t", 3.0)
    assert store.add_rotation_signature(made.id, B, b"d", b"u", 4.0)
    assert [(s.notary, s.signature) for s in store.rotation_signatures(made.id)] == [
        (A, b"s"),
        (B, b"u"),
    ]
    with pytest.raises(NotFound):
        store.add_rotation_signature("nope", A, b"d", b"s", 5.0)


def test_nothing_is_in_flight_for_a_chain_without_certified_work(store: SqlStore) -> None:
    assert store.rotation_in_flight(DST) == (0, 0)
    assert store.rotation_in_flight(SRC) == (0, 0)


def test_0011_adds_the_rotation_tables_and_downgrades_to_0010(store: SqlStore) -> None:
    from alembic import command

    from gateway.store.migrate import alembic_config

    assert TABLES <= set(inspect(store.engine).get_table_names())
    config = alembic_config()
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0010")
    assert not TABLES & set(inspect(store.engine).get_table_names())
    assert current_revision(store.engine) == "0010"
    with store.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0011")
    assert current_revision(store.engine) == "0011"
