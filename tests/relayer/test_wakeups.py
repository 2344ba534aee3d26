"""A relayer part that made work for another wakes it (``Relayer.wake``), instead of the other
finding it one ``poll_interval`` later (issue #15: each stage of a transfer waited for the
next poll of the following one)."""

from __future__ import annotations

import asyncio
import threading

from relayer.engine import Relayer
from relayer.settings import RelayerSettings

LONG_POLL = 600.0  # far longer than the test's guard: only a wake can end the idle wait


def relayer(store: object) -> Relayer:
    return Relayer(store, {}, worker_id="w", settings=RelayerSettings(poll_interval=LONG_POLL))  # type: ignore[arg-type]


def run_idle_loop(engine: Relayer, name: str, wake: object) -> list[str]:
    """Run ``name``'s loop with a pass that finds nothing; wake it once after the first
    pass (by ``wake(engine)``); the passes it made before being stopped."""
    passes: list[str] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        second = asyncio.Event()

        async def work() -> int:
            passes.append(name)
            if len(passes) == 2:
                second.set()
            return 0

        engine._running_loop = asyncio.get_running_loop()
        loop = asyncio.create_task(engine._loop(name, work, stop))
        while not passes:
            await asyncio.sleep(0)
        wake(engine)  # type: ignore[operator]
        await asyncio.wait_for(second.wait(), 60)  # a guard, not a timing: the poll is 600 s
        stop.set()
        await loop

    asyncio.run(scenario())
    return passes


def test_a_wake_ends_the_idle_wait_of_the_task_and_its_numbered_siblings(store: object) -> None:
    assert run_idle_loop(relayer(store), "route:r#2", lambda e: e.wake("route:r")) == [
        "route:r#2",
        "route:r#2",
    ]


def test_a_wake_from_another_thread_reaches_the_loop(store: object) -> None:
    def from_thread(engine: Relayer) -> None:
        thread = threading.Thread(target=engine.wake_from_thread, args=("batches:r",))
        thread.start()
        thread.join()

    assert run_idle_loop(relayer(store), "batches:r", from_thread) == ["batches:r"] * 2


def test_a_wake_of_another_task_leaves_the_idle_one_waiting(store: object) -> None:
    async def scenario() -> list[int]:
        engine = relayer(store)
        stop = asyncio.Event()
        passes: list[int] = []

        async def work() -> int:
            passes.append(1)
            return 0

        loop = asyncio.create_task(engine._loop("route:a", work, stop))
        while not passes:
            await asyncio.sleep(0)
        engine.wake("route:ab")  # another route whose id starts alike
        engine.wake("batches:a")
        for _ in range(50):
            await asyncio.sleep(0)
        stop.set()
        await loop
        return passes

    assert asyncio.run(scenario()) == [1]
