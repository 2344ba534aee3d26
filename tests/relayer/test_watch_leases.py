"""One watcher per source chain across relayer processes (issue #15), on SQLite and PostgreSQL.

Two ``Relayer`` instances (two "processes") share one real store and a devnet node in this
process; each lists the chain through its own adapter, wrapped to record every
``events()`` range it asks for. Only the holder of the chain's watch lease lists the chain;
the other stands by and its routes say who watches. When the holder stops renewing (the
injected clock passes its lease) the other takes over at its next pass and records the next
packets; the first, coming back, stands by. A lease lost in the middle of a pass (the cursor
is not fenced by the lease: ``core.seams.Store.take_watch_lease``) loses no packet either.
Every packet is recorded once and every packet's block listed once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.ids import ChainId, Height
from core.records import ChainRecord, RouteProtocol, RouteRecord, WatchLease
from core.states import TransferState as S
from core.types import ChainEvent
from devnet import keys
from gateway.store import SqlStore
from proofs.pujiang import codec
from relayer.engine import Relayer
from relayer.settings import RelayerSettings
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet
from tests.fixtures.relay import ROUTE, pujiang_adapter

CHAIN = ChainId(DEVNET_CHAIN)
LEASE = 10.0
SETTINGS = RelayerSettings(watch_lease_seconds=LEASE)
ONE_RECORDING = [S.REQUESTED, S.REQUESTED, S.SOURCE_COMMITTED, S.SOURCE_FINAL]
"""A transfer's history once the watcher recorded its packet (created, seen, two moves)."""
DEADLINE_MS = (int(time.time()) + 24 * 3600) * 1000  # the packets' timeout: far ahead


class Clock:
    """The relayers' shared clock (unix seconds), moved by the test."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A migrated store with the devnet and anvil chains (no route yet: ``_route`` adds it)."""
    url = (
        f"sqlite:///{tmp_path / 'hub.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("pg_url"))
    )
    store = SqlStore(url)
    store.migrate()
    store.upsert_chain(ChainRecord(CHAIN, "pujiang"))
    store.upsert_chain(ChainRecord(ChainId(LOCAL_CHAIN), "evm"))
    try:
        yield store
    finally:
        store.close()


def _route(store: SqlStore, devnet: InProcessDevnet) -> RouteRecord:
    """The route devnet -> anvil, scanning from the next block (the devnet lives for the
    module: earlier tests' packets stay out)."""
    start = devnet.node.produce_block().height + 1
    route = RouteRecord(
        ROUTE, CHAIN, ChainId(LOCAL_CHAIN), RouteProtocol.NOTARY, settings={"start_height": start}
    )
    store.upsert_route(route)
    return store.route(ROUTE)


def _send(devnet: InProcessDevnet, count: int) -> list[bytes]:
    """``count`` transfers to anvil in one committed devnet block; their tx hashes."""
    alice = keys.account_key(DEVNET_SEED, 0)
    nonce = devnet.node.committed_nonce(codec.compute_address(bytes(alice.verify_key)))
    hashes = []
    for i in range(count):
        args = [LOCAL_CHAIN.encode(), b"\x11" * 20, b"upj", 5, 0, DEADLINE_MS]
        tx = keys.sign_tx(alice, DEVNET_CHAIN, nonce + i, "bridge_send", args)
        hashes.append(devnet.node.submit(tx))
    devnet.node.produce_block()
    return hashes


class Process:
    """A relayer 'process': its own ``Relayer`` and adapter, every listing it made recorded."""

    def __init__(
        self, name: str, store: SqlStore, devnet: InProcessDevnet, clock: Clock, **changes: Any
    ) -> None:
        self.name = name
        self.adapter = pujiang_adapter(devnet)
        self.listed: list[tuple[int, int]] = []
        self.during_listing: list[Any] = []
        """Coroutine factories, one run as each listing starts (a pass stalls, a lease lapses)."""
        self.finality_reads = 0
        """``finalized_height`` calls: a process standing by asks the chain nothing."""
        real_events, real_final = self.adapter.events, self.adapter.finalized_height

        async def recording(start: Height, end: Height) -> list[ChainEvent]:
            self.listed.append((int(start), int(end)))
            if self.during_listing:  # one per listing
                await self.during_listing.pop(0)()
            return await real_events(start, end)

        async def finalized() -> Height:
            self.finality_reads += 1
            return await real_final()

        self.adapter.events = recording  # type: ignore[method-assign]
        self.adapter.finalized_height = finalized  # type: ignore[method-assign]
        self.relayer = Relayer(
            store,
            {CHAIN: self.adapter},
            worker_id=name,
            clock=clock,
            settings=SETTINGS.model_copy(update=changes),
        )

    async def watch(self, route: RouteRecord) -> int:
        return await self.relayer.watch_chain(CHAIN, [route])

    def watching(self) -> float | None:
        """``pjgw_relayer_watching{chain}`` as this process's registry exports it."""
        registry = self.relayer.metrics.registry
        return registry.get_sample_value("pjgw_relayer_watching", {"chain": str(CHAIN)})

    def reason(self) -> str:
        return self.relayer.route_status()[ROUTE].reason


def _pair(store: SqlStore, devnet: InProcessDevnet, clock: Clock) -> tuple[Process, Process]:
    return Process("relayer-1", store, devnet, clock), Process("relayer-2", store, devnet, clock)


def _recorded_once(store: SqlStore, hashes: list[bytes]) -> None:
    """Each sent packet has exactly one transfer, with the history of one recording (one
    ``send_packet … seen in block`` line), and the store holds no other."""
    found = [store.transfer_by_source_tx(CHAIN, h) for h in hashes]
    assert all(t is not None for t in found)
    assert len({t.id for t in found if t is not None}) == len(hashes)
    page, _ = store.list_transfers(limit=100)
    assert len(page) == len(hashes)
    for transfer in page:
        lines = store.history(transfer.id)
        assert [line.state for line in lines] == ONE_RECORDING, lines
        assert sum(" seen in block " in line.reason for line in lines) == 1, lines


def _listed_once(processes: list[Process], heights: list[int]) -> None:
    for height in heights:
        covering = [(p.name, s, e) for p in processes for s, e in p.listed if s <= height <= e]
        assert len(covering) == 1, (height, covering)


def test_one_of_two_relayers_watches_the_other_takes_over_when_its_lease_lapses(
    shared_store: SqlStore, devnet: InProcessDevnet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pjgw.relayer")
    store = shared_store
    route = _route(store, devnet)
    clock = Clock(1_000.0)
    one, two = _pair(store, devnet, clock)

    async def both(route: RouteRecord) -> list[int]:
        """A pass of each at the same moment, as two processes' watcher tasks run."""
        return list(await asyncio.gather(one.watch(route), two.watch(route)))

    async def scenario() -> list[bytes]:
        sent = _send(devnet, 2)
        assert await one.watch(route) == 2  # the first to pass takes the lease
        sent += _send(devnet, 2)
        assert await both(route) == [2, 0]
        assert (two.listed, two.finality_reads) == ([], 0)  # it never asked the chain
        assert "watched by relayer relayer-1" in two.reason()
        assert (one.watching(), two.watching()) == (1.0, 0.0)

        clock.now += LEASE - 1  # renewed by each pass of its holder
        sent += _send(devnet, 1)
        assert await both(route) == [1, 0]
        clock.now += LEASE - 1
        assert await two.watch(route) == 0
        assert (two.listed, two.finality_reads) == ([], 0)

        clock.now += 1  # relayer-1 has stopped renewing: its lease ends now
        sent += _send(devnet, 3)
        assert await two.watch(route) == 3
        assert (two.watching(), two.reason().startswith("scanned to")) == (1.0, True)

        clock.now += 1
        asked = (len(one.listed), one.finality_reads)
        sent += _send(devnet, 1)
        assert await both(route) == [0, 1]  # relayer-1, back, stands by
        assert (len(one.listed), one.finality_reads) == asked
        assert "watched by relayer relayer-2" in one.reason()
        assert one.watching() == 0.0
        return sent

    try:
        sent = asyncio.run(scenario())
    finally:
        asyncio.run(_close(one, two))
    _recorded_once(store, sent)
    heights = [int(store.transfer_by_source_tx(CHAIN, h).source_height) for h in sent]  # type: ignore[union-attr]
    _listed_once([one, two], heights)
    assert f"took over the watch of {CHAIN} from relayer relayer-1" in caplog.text


def test_a_lease_lost_in_the_middle_of_a_pass_loses_no_packet_and_records_none_twice(
    shared_store: SqlStore, devnet: InProcessDevnet
) -> None:
    """relayer-1 stalls while listing a chunk past its lease; relayer-2 takes over, records
    the chunk and moves the cursor on; relayer-1 then records the same chunk (a no-op: the
    packets are known) and advances the cursor late (forward-only: no effect)."""
    store = shared_store
    route = _route(store, devnet)
    clock = Clock(2_000.0)
    one, two = _pair(store, devnet, clock)

    async def stall_then_lose() -> None:
        clock.now += LEASE + 1
        assert await two.watch(route) == 2

    async def scenario() -> list[bytes]:
        sent = _send(devnet, 1)
        assert await one.watch(route) == 1
        sent += _send(devnet, 2)
        one.during_listing.append(stall_then_lose)
        await one.watch(route)  # it records the chunk after relayer-2 did
        sent += _send(devnet, 1)
        assert await one.watch(route) == 0  # and stands by from its next pass on
        assert await two.watch(route) == 1
        return sent

    try:
        sent = asyncio.run(scenario())
    finally:
        asyncio.run(_close(one, two))
    _recorded_once(store, sent)
    last = max(int(store.transfer_by_source_tx(CHAIN, h).source_height) for h in sent)  # type: ignore[union-attr]
    assert int(store.cursor(Relayer.chain_cursor_key(CHAIN)) or 0) >= last


def test_a_long_pass_renews_the_lease_between_chunks_so_no_one_takes_it(
    shared_store: SqlStore, devnet: InProcessDevnet
) -> None:
    """Chunks of one height, each listing taking 4 s of the 10 s lease: the holder renews
    it between chunks, so the other relayer, passing after each chunk, never takes it."""
    store = shared_store
    route = _route(store, devnet)
    clock = Clock(3_000.0)
    one = Process("relayer-1", store, devnet, clock, chunk_size=1)
    two = Process("relayer-2", store, devnet, clock)
    sent = [h for _ in range(5) for h in _send(devnet, 1)]  # five blocks, one packet each

    async def slow_then_peek() -> None:
        clock.now += 4
        assert await two.watch(route) == 0

    async def scenario() -> int:
        one.during_listing.extend([slow_then_peek] * 5)
        return await one.watch(route)

    try:
        assert asyncio.run(scenario()) == 5
    finally:
        asyncio.run(_close(one, two))
    assert two.listed == []
    _recorded_once(store, sent)


def test_a_relayer_stopping_cleanly_hands_the_watch_over_at_once(
    shared_store: SqlStore, devnet: InProcessDevnet, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pjgw.relayer")
    store = shared_store
    route = _route(store, devnet)
    clock = Clock(4_000.0)
    one, two = _pair(store, devnet, clock)

    async def scenario() -> list[bytes]:
        sent = _send(devnet, 1)
        assert await one.watch(route) == 1
        await one.relayer.release_watches()  # what ``run`` does once ``stop`` is set
        assert one.watching() == 0.0
        sent += _send(devnet, 1)
        assert await two.watch(route) == 1  # no wait for the lease to run out
        return sent

    try:
        sent = asyncio.run(scenario())
    finally:
        asyncio.run(_close(one, two))
    _recorded_once(store, sent)
    assert f"watching {CHAIN} (no other relayer held its lease)" in caplog.text


async def _close(*processes: Process) -> None:
    for process in processes:
        await process.adapter.aclose()


def test_run_releases_the_watch_when_it_stops(
    shared_store: SqlStore, devnet: InProcessDevnet
) -> None:
    """``Relayer.run`` (what ``pjgw relay`` runs) watches the chain, and once ``stop`` is set
    its lease is gone: another process takes it at once, from nobody."""
    store = shared_store
    route = _route(store, devnet)
    clock = Clock(5_000.0)
    one = Process("relayer-1", store, devnet, clock, poll_interval=0.01, breakers=())
    # The route's destination needs an adapter for the route to run; the watcher never
    # calls it, and no transfer is due (nothing was sent).
    one.relayer.adapters[route.destination] = pujiang_adapter(devnet)

    async def scenario() -> float | None:
        stop = asyncio.Event()
        running = asyncio.create_task(one.relayer.run(stop))
        for _ in range(2_000):  # until its watcher has passed once (a guard, not a timing)
            if one.watching() == 1.0:
                break
            await asyncio.sleep(0.01)
        watched = one.watching()
        stop.set()
        await running
        return watched

    try:
        assert asyncio.run(scenario()) == 1.0
        assert one.watching() == 0.0
    finally:
        asyncio.run(_close(one))
        asyncio.run(one.relayer.adapters[route.destination].aclose())  # type: ignore[attr-defined]
    key = Relayer.chain_cursor_key(CHAIN)
    taken = store.take_watch_lease(key, "relayer-2", clock(), LEASE)
    assert taken == WatchLease(key, "relayer-2", clock() + LEASE)  # from nobody: released
