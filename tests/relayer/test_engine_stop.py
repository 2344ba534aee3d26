"""``Relayer.run`` ends its tasks cleanly: a stop lets each finish the pass it is in (up to
``STOP_GRACE``), and a route list the store could not read keeps what runs.

Both were cancellations in the middle of a pass: a pass cut short is safe (every step is
journaled), but it opens the windows between two commits (CI caught a breaker stopped
between pausing a route and its reverse), and a store briefly away is no reason to stop
every watcher and worker.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from relayer import engine as engine_module
from relayer.engine import Relayer
from relayer.settings import RelayerSettings

GUARD = 60.0  # a bound on the test's own waits, never a timing


def relayer(store: object) -> Relayer:
    settings = RelayerSettings(poll_interval=0.01, breakers=())
    return Relayer(store, {}, worker_id="w", settings=settings)  # type: ignore[arg-type]


def with_one_task(engine: Relayer, work: Callable[[], Awaitable[int]]) -> None:
    """The engine wants exactly one task, ``route:x``, running ``work``."""
    engine._wanted_tasks = lambda routes: {"route:x": work}  # type: ignore[method-assign]


class Pass:
    """A pass that waits for ``gate``, saying whether it started, ended or was cancelled."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.started = asyncio.Event()
        self.events: list[str] = []

    async def __call__(self) -> int:
        self.started.set()
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.events.append("cancelled")
            raise
        self.events.append("finished")
        return 0


def test_a_stop_lets_the_pass_under_way_finish(store: object) -> None:
    async def scenario() -> list[str]:
        engine = relayer(store)
        work = Pass()
        with_one_task(engine, work)
        stop = asyncio.Event()
        running = asyncio.create_task(engine.run(stop))
        await asyncio.wait_for(work.started.wait(), GUARD)
        stop.set()
        for _ in range(5):  # the engine sees the stop while the pass still waits
            await asyncio.sleep(0)
        work.gate.set()
        await asyncio.wait_for(running, GUARD)
        return work.events

    assert asyncio.run(scenario()) == ["finished"]


def test_a_pass_still_running_after_the_grace_is_cancelled(
    store: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "STOP_GRACE", 0.05)

    async def scenario() -> list[str]:
        engine = relayer(store)
        work = Pass()  # its gate never opens
        with_one_task(engine, work)
        stop = asyncio.Event()
        running = asyncio.create_task(engine.run(stop))
        await asyncio.wait_for(work.started.wait(), GUARD)
        stop.set()
        await asyncio.wait_for(running, GUARD)
        return work.events

    assert asyncio.run(scenario()) == ["cancelled"]


def test_a_route_list_the_store_cannot_read_keeps_the_tasks_running(store: object) -> None:
    async def scenario() -> tuple[list[str], int]:
        engine = relayer(store)
        work = Pass()
        with_one_task(engine, work)
        reads = 0
        failed = asyncio.Event()

        async def routes() -> list[Any]:
            nonlocal reads
            reads += 1
            if reads == 1:
                return []
            if reads >= 4:
                failed.set()
            raise ConnectionError("the store is briefly away")

        engine._routes = routes  # type: ignore[method-assign]
        stop = asyncio.Event()
        running = asyncio.create_task(engine.run(stop))
        await asyncio.wait_for(failed.wait(), GUARD)  # three reads failed meanwhile
        work.gate.set()  # the pass started before the failures ends only now
        await asyncio.wait_for(work.started.wait(), GUARD)
        stop.set()
        await asyncio.wait_for(running, GUARD)
        return work.events, reads

    events, reads = asyncio.run(scenario())
    assert reads >= 4
    assert events[:1] == ["finished"]
    assert "cancelled" not in events
