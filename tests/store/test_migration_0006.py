"""Migration 0006 carries a store of the old schema over: one journal and one history.

A store at revision 0005 holds transfers in every transfer state and swaps in
every swap state, each with its history lines and journal rows in the old
tables (``transfer_events``/``actions`` with ``transfer_id``, ``swap_events``/
``swap_actions``), written here as that schema held them. After ``upgrade``
the store reads every line and every journal row back unchanged through its
API (``history``, ``action``, ``swap_history``, ``swap_action``); the migrated
transfers and swaps go on (a new journal row, a transition, a note); and a
downgrade followed by an upgrade gives the same answers again.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import create_engine

from core.ids import ChainId
from core.records import ActionStatus
from core.states import SwapState, TransferState
from core.types import ChainAction
from gateway.store import SqlStore
from gateway.store.codec import dumps
from gateway.store.engine import parse_url
from gateway.store.migrate import alembic_config, upgrade_engine
from gateway.store.models import Swap, SwapLeg, Transfer
from tests.store.helpers import insert_old_chains_and_route, transfer_row

OLD_TRANSFER_EVENTS = sa.table(
    "transfer_events",
    *(sa.column(c) for c in ("transfer_id", "at", "state", "reason", "tx_hash", "chain_id")),
)
OLD_SWAP_EVENTS = sa.table(
    "swap_events",
    *(sa.column(c) for c in ("swap_id", "at", "state", "reason", "leg", "tx_hash", "chain_id")),
)
_JOURNAL = (
    "step",
    "chain_id",
    "kind",
    "payload",
    "idempotency_key",
    "status",
    "tx_hash",
    "height",
    "reason",
    "recorded_at",
)
OLD_ACTIONS = sa.table("actions", *(sa.column(c) for c in ("transfer_id", *_JOURNAL)))
OLD_SWAP_ACTIONS = sa.table("swap_actions", *(sa.column(c) for c in ("swap_id", *_JOURNAL)))


def _downgrade(engine: sa.Engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)


def _swap_rows(i: int, state: SwapState) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    swap = {
        "id": f"sw_{i:032x}",
        "hashlock": bytes([i]) * 32,
        "state": state.value,
        "reason": f"in {state.value}",
        "preimage": None,
        "attempts": 0,
        "next_attempt_at": 1.0,
        "created_at": float(i),
        "updated_at": float(i),
        "lease_owner": None,
        "lease_until": None,
        "idempotency_key": None,
        "request_hash": None,
    }
    legs = [
        {
            "swap_id": swap["id"],
            "leg": leg,
            "chain_id": chain,
            "asset": "upj",
            "amount": 5,
            "sender": "0x" + "03" * 20,
            "receiver": "0x" + "04" * 20,
            "timelock": 10_000 - leg,
            "state": "pending",
            "claim_delegated": False,
            "refund_delegated": False,
            "lock_id": None,
            "lock_tx": None,
            "lock_height": None,
            "claim_tx": None,
            "refund_tx": None,
        }
        for leg, chain in ((1, "a"), (2, "b"))
    ]
    return swap, legs


def _journal(step: str, i: int, status: str) -> dict[str, Any]:
    return {
        "step": step,
        "chain_id": "b",
        "kind": "bridge.receivePacket",
        "payload": dumps({"args": [f"0x{i:064x}"], "raw": bytes([i])}),
        "idempotency_key": f"k-{step}-{i}",
        "status": status,
        "tx_hash": bytes([i + 1]) * 32,
        "height": 100 + i,
        "reason": "",
        "recorded_at": 2.0 + i,
    }


@pytest.fixture
def old_store(store_url: str) -> tuple[str, list[str], list[str]]:
    """A store at 0005 with a transfer in each transfer state and a swap in each swap
    state, each with history lines and journal rows in the old tables."""
    engine = create_engine(parse_url(store_url))
    upgrade_engine(engine, "0005")
    transfers, swaps = [], []
    with engine.begin() as conn:
        insert_old_chains_and_route(conn)  # tables 0006 leaves as they are
        for i, state in enumerate(TransferState, start=1):
            row = transfer_row(i, state)
            conn.execute(sa.insert(Transfer.__table__), row)
            transfers.append(row["id"])
            for n in range(3):
                conn.execute(
                    sa.insert(OLD_TRANSFER_EVENTS),
                    {
                        "transfer_id": row["id"],
                        "at": i + n / 10,
                        "state": state.value,
                        "reason": f"line {n} of {state.value}",
                        "tx_hash": bytes([n]) * 32 if n else None,
                        "chain_id": "a" if n else None,
                    },
                )
            for step, status in (("source_submit", "succeeded"), ("deliver", "sent")):
                conn.execute(
                    sa.insert(OLD_ACTIONS), {"transfer_id": row["id"], **_journal(step, i, status)}
                )
        for i, state in enumerate(SwapState, start=1):
            swap, legs = _swap_rows(i, state)
            conn.execute(sa.insert(Swap.__table__), swap)
            conn.execute(sa.insert(SwapLeg.__table__), legs)
            swaps.append(swap["id"])
            for n, leg in enumerate((None, 1, 2)):
                conn.execute(
                    sa.insert(OLD_SWAP_EVENTS),
                    {
                        "swap_id": swap["id"],
                        "at": i + n / 10,
                        "state": state.value,
                        "reason": f"line {n} of {state.value}",
                        "leg": leg,
                        "tx_hash": None,
                        "chain_id": None,
                    },
                )
            conn.execute(
                sa.insert(OLD_SWAP_ACTIONS),
                {"swap_id": swap["id"], **_journal("claim_leg_1", i, "recorded")},
            )
    engine.dispose()
    return store_url, transfers, swaps


def _read_all(store: SqlStore, transfers: list[str], swaps: list[str]) -> dict[str, Any]:
    def journal(r: Any) -> Any:
        return (
            None if r is None else (r.transfer_id, r.step, r.status, r.payload, r.tx_hash, r.height)
        )

    return {
        "transfers": {
            t: (
                [(h.state, h.reason, h.tx_hash, h.chain_id) for h in store.history(t)],
                journal(store.action(t, "source_submit")),
                journal(store.action(t, "deliver")),
            )
            for t in transfers
        },
        "swaps": {
            s: (
                [(h.state, h.reason, h.leg) for h in store.swap_history(s)],
                journal(store.swap_action(s, "claim_leg_1")),
            )
            for s in swaps
        },
    }


def test_every_transfer_and_swap_keeps_its_history_and_journal_across_0006(
    old_store: tuple[str, list[str], list[str]],
) -> None:
    url, transfers, swaps = old_store
    engine = create_engine(parse_url(url))
    upgrade_engine(engine, "head")
    store = SqlStore(url)
    try:
        after = _read_all(store, transfers, swaps)
        assert len(after["transfers"]) == len(TransferState)
        assert len(after["swaps"]) == len(SwapState)
        for i, (t, (history, submit, deliver)) in enumerate(after["transfers"].items(), 1):
            state = store.transfer(t).state
            assert [h[1] for h in history] == [f"line {n} of {state.value}" for n in range(3)]
            assert history[1][2:] == (b"\x01" * 32, "a")
            assert submit[1:3] == ("source_submit", ActionStatus.SUCCEEDED)
            assert deliver[1:] == (
                "deliver",
                ActionStatus.SENT,
                {"args": [f"0x{i:064x}"], "raw": bytes([i])},
                bytes([i + 1]) * 32,
                100 + i,
            )
        for s, (history, claim) in after["swaps"].items():
            assert [h[2] for h in history] == [None, 1, 2]
            assert claim[:3] == (s, "claim_leg_1", ActionStatus.RECORDED)

        # The migrated subjects go on: a new journal row, a note, a transition.
        proven = next(t for t in transfers if store.transfer(t).state is TransferState.PROVEN)
        store.record_action(proven, "refund", ChainId("a"), ChainAction("x", {}, "kx"), 9.0)
        assert store.action(proven, "refund").step == "refund"  # type: ignore[union-attr]
        store.note(proven, "still waiting", 9.0, retry_at=10.0)
        moved = store.transition(
            proven, TransferState.PROVEN, TransferState.ATTESTED, "two of three", 9.5
        )
        assert moved.state is TransferState.ATTESTED
        assert [h.reason for h in store.history(proven)][-2:] == ["still waiting", "two of three"]
        store.note_swap(swaps[0], "watching", 9.0, retry_at=10.0)
        assert store.swap_history(swaps[0])[-1].reason == "watching"
    finally:
        store.close()

    # Down and up again: the same answers (the downgrade moves every row back).
    before = _read_all(SqlStore(url), transfers, swaps)
    _downgrade(engine, "0005")
    upgrade_engine(engine, "head")
    engine.dispose()
    again = SqlStore(url)
    try:
        assert _read_all(again, transfers, swaps) == before
    finally:
        again.close()
