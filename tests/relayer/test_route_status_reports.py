"""A relayer reports each route's status to the store: on a change at once, else as a heartbeat.

No chain is needed: a disabled route is ``stopped`` and a route whose chain is not
registered is ``error``, both decided before any chain is asked anything.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from core.ids import ChainId
from core.records import RouteProtocol, RouteRecord
from relayer.engine import STATUS_HEARTBEAT_SECONDS, Relayer
from tests.fixtures.relay import ROUTE


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def _passes(relayer: Relayer, clock: Clock, *moves: float) -> None:
    async def scenario() -> None:
        try:
            for move in moves:
                clock.now += move
                await relayer.run_once()
        finally:
            relayer.db.close()

    asyncio.run(scenario())


def _reports(store: Any) -> list[tuple[str, str, str, str, float, float]]:
    return [
        (s.route_id, s.worker, s.state, s.reason, s.since, s.updated_at)
        for s in store.route_statuses()
    ]


def test_a_disabled_route_is_reported_stopped_then_only_on_heartbeats(store: Any) -> None:
    store.upsert_route(dataclasses.replace(store.route(ROUTE), enabled=False))
    clock = Clock()
    relayer = Relayer(store, {}, worker_id="relayer-9", clock=clock)
    # a pass now, another 1 s later (nothing changed: not written), one past the heartbeat
    _passes(relayer, clock, 0.0, 1.0, STATUS_HEARTBEAT_SECONDS)
    heartbeat = 1_001.0 + STATUS_HEARTBEAT_SECONDS
    assert _reports(store) == [
        (ROUTE, "relayer-9", "stopped", "disabled by an operator", 1_000.0, heartbeat)
    ]


def test_a_change_of_state_is_reported_at_once(store: Any) -> None:
    clock = Clock()
    store.upsert_route(
        RouteRecord("nowhere", ChainId("unknown-a"), ChainId("unknown-b"), RouteProtocol.NOTARY)
    )
    relayer = Relayer(store, {}, worker_id="relayer-9", clock=clock)
    seen: list[tuple[str, str, float, float]] = []

    async def scenario() -> None:
        try:
            await relayer.run_once()
            found = {s.route_id: s for s in store.route_statuses()}["nowhere"]
            seen.append((found.state, found.reason, found.since, found.updated_at))
            store.upsert_route(dataclasses.replace(store.route("nowhere"), enabled=False))
            clock.now += 0.5  # well within the heartbeat
            await relayer.run_once()
            found = {s.route_id: s for s in store.route_statuses()}["nowhere"]
            seen.append((found.state, found.reason, found.since, found.updated_at))
        finally:
            relayer.db.close()

    asyncio.run(scenario())
    assert seen == [
        ("error", "chain unknown-a is not registered", 1_000.0, 1_000.0),
        ("stopped", "disabled by an operator", 1_000.5, 1_000.5),
    ]
