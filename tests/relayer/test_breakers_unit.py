"""The breakers' pure parts: the ledger arithmetic (``core.conservation``), the delivery
window, the names a pause carries, and the settings refused when written; and a trip of a
route with its reverse being one store call (on a SQLite store)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.evm.nonces import NonceTaken
from adapters.pujiang.adapter import NonceAhead
from core.conservation import IN_FLIGHT_STATES, AssetLedger, home_denoms
from core.errors import ChainRejected, ChainUnavailable
from core.ids import ChainId
from core.records import RouteProtocol, RouteRecord, TransferRecord
from core.states import TERMINAL_TRANSFER_STATES, TransferState
from gateway.store.sql import SqlStore
from relayer.async_store import AsyncStore
from relayer.breakers import DeliveryWindow, breaker_of
from relayer.protocols.base import Context
from relayer.settings import RelayerSettings
from tests.relayer.test_batching import proven

BALANCED = AssetLedger("home", "away", "upj", escrowed=100, vouchers=60, out=30, back=10)


def test_a_balanced_ledger_has_no_deficit_and_a_forged_voucher_makes_one() -> None:
    assert BALANCED.deficit == 0
    assert not BALANCED.breaks(0)
    forged = AssetLedger("home", "away", "upj", escrowed=100, vouchers=67, out=30, back=10)
    assert forged.deficit == 7
    assert forged.breaks(6)
    assert not forged.breaks(7)  # a tolerance of 7 base units lets 7 pass
    assert "deficit 7" in str(forged)
    assert "home/upj on away" in str(forged)


def test_a_surplus_never_breaks_the_law_as_the_breaker_reads_it() -> None:
    surplus = AssetLedger("home", "away", "upj", escrowed=1_000, vouchers=60, out=0, back=0)
    assert surplus.deficit < 0
    assert not surplus.breaks(0)


def test_in_flight_states_are_before_any_settling_action_and_never_terminal() -> None:
    assert not IN_FLIGHT_STATES & TERMINAL_TRANSFER_STATES
    assert TransferState.ATTESTED not in IN_FLIGHT_STATES  # a delivery may be journaled
    assert TransferState.DEST_SUBMITTED not in IN_FLIGHT_STATES
    assert TransferState.TIMED_OUT not in IN_FLIGHT_STATES  # a refund may be journaled


def test_home_denoms_are_the_pairs_native_assets_from_both_routes() -> None:
    out = {"upj": 0, "away/native": 5, "third/x": 0}  # away/native goes home: not ours
    back = {"home/upj": 1, "home/ustable": 0, "elsewhere/y": 0}
    assert home_denoms("home", "away", out, back) == ["third/x", "upj", "ustable"]
    assert home_denoms("home", "away", {}, {}) == []


def test_the_delivery_window_keeps_the_last_n_outcomes_younger_than_its_age() -> None:
    window = DeliveryWindow(size=3, seconds=60.0)
    window.record("r", False, at=0.0)
    window.record("r", True, at=10.0)
    window.record("r", False, at=20.0, count=2)
    assert window.figures("r", now=20.0) == (2, 3)  # the oldest fell out of the last 3
    assert window.figures("r", now=75.0) == (2, 2)  # 10.0 is older than 60 s at 75
    assert window.figures("r", now=200.0) == (0, 0)
    assert window.figures("other", now=0.0) == (0, 0)
    window.clear("r")
    assert window.figures("r", now=20.0) == (0, 0)


@pytest.mark.parametrize(
    ("paused", "breaker"),
    [
        ("breaker conservation: deficit 7", "conservation"),
        ("breaker failure_rate: 3 of 4 failed", "failure_rate"),
        ("breaker client_frozen: fork", "client_frozen"),
        ("breaker unknown: x", None),
        ("maintenance by ops", None),
        (None, None),
    ],
)
def test_the_breaker_a_pause_names(paused: str | None, breaker: str | None) -> None:
    assert breaker_of(paused) == breaker


def test_the_breaker_settings_defaults_are_all_three_breakers_checked_every_30_seconds() -> None:
    settings = RelayerSettings()
    assert settings.breakers == ("conservation", "client_frozen", "failure_rate")
    assert settings.breaker_interval == 30.0
    assert (settings.breaker_failure_min, settings.breaker_failure_window) == (5, 20)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("breakers", ("conservation", "astrology"), "unknown breaker 'astrology'"),
        ("breakers", ("conservation", "conservation"), "named twice"),
        ("breaker_interval", 0, "greater than 0"),
        ("breaker_conservation_tolerance", -1, "greater than or equal to 0"),
        ("breaker_failure_rate", 0, "greater than 0"),
        ("breaker_failure_rate", 1.5, "less than or equal to 1"),
        ("breaker_failure_window", 0, "greater than or equal to 1"),
        ("breaker_failure_min", 21, "must not exceed breaker_failure_window"),
        ("breaker_failure_minutes", 0, "greater than 0"),
    ],
)
def test_a_bad_breaker_setting_is_refused_naming_it(
    field: str, value: object, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as refused:
        RelayerSettings(**{field: value})
    located = {str(loc) for e in refused.value.errors() for loc in e["loc"]}
    assert field in located or field == "breaker_failure_min"


def _attested(route_id: str) -> TransferRecord:
    return dataclasses.replace(proven(1, route=route_id), state=TransferState.ATTESTED)


@pytest.mark.parametrize(
    ("err", "counted"),
    [
        (ChainRejected("execution reverted: Bridge: paused"), True),
        (NonceAhead("wrong-nonce: nonce 77, the account expects 76"), False),
        (NonceTaken("nonce too low"), False),
        (ChainUnavailable("node timed out"), False),
    ],
)
def test_a_delivery_counts_as_failed_only_when_the_destination_refused_it(
    tmp_path: Path, err: Exception, counted: bool
) -> None:
    """The failure-rate breaker's window hears of a refusal of the delivery itself; a
    refusal that passes by itself (a nonce ahead or taken) or a node that is down does
    not (issue #15: nonce-ahead refusals alone paused anvil-to-devnet under load)."""
    store = SqlStore(f"sqlite:///{tmp_path / 'hub.db'}")
    store.migrate()
    heard: list[tuple[str, bool, int]] = []
    ctx = Context(
        store=AsyncStore(store),
        adapters={},
        keeper=None,  # type: ignore[arg-type]
        settings=RelayerSettings(),
        clock=lambda: 1_000.0,
        worker_id="w",
        on_freeze=lambda route, reason: None,
        on_delivery=lambda *outcome: heard.append(outcome),
    )
    route = RouteRecord("a-to-b", ChainId("a"), ChainId("b"), RouteProtocol.NOTARY)
    # The transfer is not in this store: recording the note fails and is logged, as a
    # transfer moved elsewhere would be; the outcome is told before that.
    asyncio.run(ctx.handle_error(route, _attested(route.route_id), err))
    assert heard == ([("a-to-b", False, 1)] if counted else [])


class OneCallStore(AsyncStore):
    """The relayer's store, each ``trip_breakers`` call kept (the routes it named)."""

    def __init__(self, store: SqlStore) -> None:
        super().__init__(store)
        self.trip_calls: list[list[str]] = []

    async def trip_breakers(
        self, breaker: str, reasons: Sequence[tuple[str, str]], now: float
    ) -> list[RouteRecord | None]:
        self.trip_calls.append([route_id for route_id, _ in reasons])
        return await super().trip_breakers(breaker, reasons, now)


def test_a_conservation_trip_pauses_the_route_and_its_reverse_in_one_store_call(
    store: SqlStore,
) -> None:
    """One call is one transaction (``tests/store/test_breaker_store.py``): a relayer stopped
    mid-check can no longer leave the reverse route open (CI caught it between two calls)."""
    from relayer.breakers import Breakers
    from relayer.metrics import RelayerMetrics
    from tests.fixtures.anvil import LOCAL_CHAIN
    from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN

    back = RouteRecord(
        "anvil-to-devnet", ChainId(LOCAL_CHAIN), ChainId(DEVNET_CHAIN), RouteProtocol.NOTARY
    )
    store.upsert_route(back)
    db = OneCallStore(store)
    settings = RelayerSettings(breakers=("conservation",))
    breakers = Breakers(db, {}, {}, None, settings, lambda: 5.0, RelayerMetrics())  # type: ignore[arg-type]

    async def deficit(route: RouteRecord, routes: Sequence[RouteRecord]) -> str | None:
        return "conservation broken: deficit 9" if route.source == DEVNET_CHAIN else None

    breakers._checks["conservation"] = deficit
    try:
        trips = asyncio.run(breakers.check(store.routes()))
    finally:
        db.close()
    assert db.trip_calls == [["devnet-to-anvil", "anvil-to-devnet"]]
    assert [(t.route_id, t.paused) for t in trips] == [
        ("devnet-to-anvil", True),
        ("anvil-to-devnet", True),
    ]
    assert store.route("anvil-to-devnet").paused_reason == (
        "breaker conservation: the reverse route devnet-to-anvil is unbalanced: "
        "conservation broken: deficit 9"
    )
