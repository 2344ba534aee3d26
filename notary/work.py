"""Where a notary's work comes from and where its attestations go.

``WorkSource`` is the seam: ``fetch(limit)`` returns work items, ``submit``
delivers one attestation. Two sources:

* ``HttpWorkSource``: a separate notary process polling the hub
  (``GET {hub}/v1/notary/requests?notary=0x..&limit=N`` -> JSON list of work
  items; ``POST {hub}/v1/notary/attestations`` with the attestation JSON; header
  ``X-API-Key``). Every request has a timeout; network failures are
  ``ChainUnavailable``-like retryable ``StoreUnavailable`` errors for the loop.
* ``StoreWorkSource``: the embedded mode, straight on the hub's ``core.seams.Store``:
  the statements this notary owes (``Store.statements_owed``: ``delivery`` of
  ``proven`` transfers, ``nondelivery`` of ``timed_out`` ones, also when it
  attested their delivery: the notary decides with its non-receipt proof);
  attestations through ``store.add_signature`` with their kind (which reports
  equivocation evidence).

Both also hand out committee ROTATIONS (issue #20; ``RotationWorkSource``: ``GET
{hub}/v1/notary/rotations``, ``POST {hub}/v1/notary/rotations/{id}/signatures``;
``notary/rotations.py`` says what a notary checks before it signs one).

Both also hand out BATCHES (issue #15; ``BatchWorkSource``): ``GET
{hub}/v1/notary/batches`` / ``Store.batches_owed``, one ``POST
{hub}/v1/notary/batch-attestations`` per batch.

``run_notary`` is the loop: fetch, attest each item and each batch (refusals are
logged with their reason and skipped), submit, sleep when idle.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import httpx

from core.batches import BatchKind
from core.errors import PjgwError, StoreUnavailable
from core.records import SignatureRecord
from core.seams import BatchStore, RotationStore
from core.steps import Step
from notary.batches import BatchAttestation, BatchWork
from notary.rotations import RotationAttestation, RotationWork
from notary.service import Attestation, FailedAt, Notary, WorkItem

log = logging.getLogger("pjgw.notary")

MAX_BATCHES_PER_FETCH = 16
"""Most batches taken from one answer of the hub (each up to 256 packets)."""
MAX_ROTATIONS_PER_FETCH = 8
"""Most rotations taken from one answer (the hub keeps one open per chain)."""


@runtime_checkable
class WorkSource(Protocol):
    async def fetch(self, limit: int) -> list[WorkItem]: ...

    async def submit(self, attestation: Attestation) -> None: ...


@runtime_checkable
class BatchWorkSource(Protocol):
    """A work source that also hands out batches (issue #15): one signature per batch."""

    async def fetch_batches(self, limit: int) -> list[BatchWork]: ...

    async def submit_batch(self, attestation: BatchAttestation) -> None: ...


@runtime_checkable
class RotationWorkSource(Protocol):
    """A work source that also hands out committee rotations (issue #20)."""

    async def fetch_rotations(self) -> list[RotationWork]: ...

    async def submit_rotation(self, attestation: RotationAttestation) -> None: ...


class HttpWorkSource:
    """The hub's notary endpoints over HTTP. The API key is never put in a repr or a log."""

    def __init__(
        self,
        hub_url: str,
        api_key: str,
        notary: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.hub_url = hub_url.rstrip("/")
        self.notary = notary
        self._client = httpx.AsyncClient(
            base_url=self.hub_url,
            headers={"X-API-Key": api_key},
            timeout=timeout,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"HttpWorkSource({self.hub_url!r}, notary={self.notary})"

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, limit: int) -> list[WorkItem]:
        try:
            answer = await self._client.get(
                "/v1/notary/requests", params={"notary": self.notary, "limit": limit}
            )
            answer.raise_for_status()
            items = answer.json()
        except (httpx.HTTPError, ValueError) as err:
            raise StoreUnavailable(f"hub {self.hub_url} did not hand out work: {err}") from err
        if not isinstance(items, list):
            raise StoreUnavailable(f"hub {self.hub_url} answered work that is not a list")
        found = []
        for item in items:
            try:
                found.append(WorkItem.from_json(item))
            except PjgwError as err:
                log.warning("skipping a malformed work item: %s", err)
        return found

    async def submit(self, attestation: Attestation) -> None:
        try:
            answer = await self._client.post("/v1/notary/attestations", json=attestation.as_json())
            answer.raise_for_status()
        except httpx.HTTPError as err:
            raise StoreUnavailable(
                f"hub {self.hub_url} did not take the attestation: {err}"
            ) from err

    async def fetch_batches(self, limit: int) -> list[BatchWork]:
        """The batches this notary owes (``GET /v1/notary/batches``)."""
        try:
            answer = await self._client.get(
                "/v1/notary/batches", params={"notary": self.notary, "limit": limit}
            )
            answer.raise_for_status()
            docs = answer.json()
        except (httpx.HTTPError, ValueError) as err:
            raise StoreUnavailable(f"hub {self.hub_url} did not hand out batches: {err}") from err
        if not isinstance(docs, list):
            raise StoreUnavailable(f"hub {self.hub_url} answered batches that are not a list")
        found = []
        for doc in docs[:MAX_BATCHES_PER_FETCH]:
            try:
                found.append(BatchWork.from_json(doc))
            except PjgwError as err:
                log.warning("skipping a malformed batch: %s", err)
        return found

    async def submit_batch(self, attestation: BatchAttestation) -> None:
        try:
            answer = await self._client.post(
                "/v1/notary/batch-attestations", json=attestation.as_json()
            )
            answer.raise_for_status()
        except httpx.HTTPError as err:
            raise StoreUnavailable(
                f"hub {self.hub_url} did not take the batch attestation: {err}"
            ) from err

    async def fetch_rotations(self) -> list[RotationWork]:
        """The open rotations (``GET /v1/notary/rotations``)."""
        try:
            answer = await self._client.get("/v1/notary/rotations")
            answer.raise_for_status()
            docs = answer.json()
        except (httpx.HTTPError, ValueError) as err:
            raise StoreUnavailable(f"hub {self.hub_url} did not hand out rotations: {err}") from err
        if not isinstance(docs, list):
            raise StoreUnavailable(f"hub {self.hub_url} answered rotations that are not a list")
        found = []
        for doc in docs[:MAX_ROTATIONS_PER_FETCH]:
            try:
                found.append(RotationWork.from_json(doc))
            except PjgwError as err:
                log.warning("skipping a malformed rotation: %s", err)
        return found

    async def submit_rotation(self, attestation: RotationAttestation) -> None:
        try:
            answer = await self._client.post(
                f"/v1/notary/rotations/{attestation.rotation_id}/signatures",
                json=attestation.as_json(),
            )
            answer.raise_for_status()
        except httpx.HTTPError as err:
            raise StoreUnavailable(
                f"hub {self.hub_url} did not take the rotation signature: {err}"
            ) from err


class StoreWorkSource:
    """Embedded mode: the statements this notary owes, by the store's one query
    (``Store.statements_owed``, the same the hub's API answers with)."""

    def __init__(
        self,
        store: Any,
        notary: str,
        *,
        clock: Callable[[], float] = time.time,
        kinds: tuple[str, ...] = ("delivery", "nondelivery"),
    ) -> None:
        self.store = store
        self.notary = notary.lower()
        self._clock = clock
        self.kinds = kinds
        """The per-packet statements asked for (``nondelivery`` alone beside a relayer
        attesting in batches, as the hub's API does: ``gateway.routers.notary.owed_kinds``)."""

    async def fetch(self, limit: int) -> list[WorkItem]:
        items: list[WorkItem] = []
        for record, kind in self.store.statements_owed(self.notary, limit, self.kinds):
            items.extend(_item(record, kind))
        return items

    async def submit(self, attestation: Attestation) -> None:
        record = self.store.transfer(attestation.transfer_id)
        evidence = self.store.add_signature(
            SignatureRecord(
                transfer_id=attestation.transfer_id,
                notary=attestation.notary,
                digest=attestation.digest,
                signature=attestation.signature,
                at=self._clock(),
                kind=attestation.kind,
            ),
            record.route_id,
            record.packet.sequence if record.packet else 0,
        )
        if evidence is not None:
            log.error("the store reports equivocation evidence for %s", attestation.notary)

    async def fetch_batches(self, limit: int) -> list[BatchWork]:
        if not isinstance(self.store, BatchStore):
            return []
        found = []
        for batch, members in self.store.batches_owed(self.notary, limit):
            kind = BatchKind(batch.kind)
            items = [i for t in members for i in _item(t, "delivery")]
            if len(items) != len(members):
                continue
            failures: list[FailedAt | None] = [None] * len(items)
            if kind is BatchKind.ERROR_ACK:  # where each member's failure was recorded
                failures = [_failed_at(self.store, t.id) for t in members]
            route = self.store.route(batch.route_id)
            found.append(
                BatchWork(
                    batch_id=batch.id,
                    route_id=batch.route_id,
                    source_chain=str(route.source),
                    dest_chain=str(route.destination),
                    kind=kind,
                    epoch=batch.epoch,
                    root=batch.root,
                    members=tuple(
                        WorkItem(**{**_fields(i), "kind": _kind_of(kind), "failed_at": f})
                        for i, f in zip(items, failures, strict=True)
                    ),
                )
            )
        return found

    async def submit_batch(self, attestation: BatchAttestation) -> None:
        if not isinstance(self.store, BatchStore):
            raise StoreUnavailable("the store keeps no batches")
        batch = self.store.batch(attestation.batch_id)
        if attestation.digest != batch.digest:
            log.error("batch %s: signed a digest that is not the hub's", batch.id)
            return
        self.store.add_batch_signature(
            SignatureRecord(
                attestation.batch_id,
                attestation.notary,
                attestation.digest,
                attestation.signature,
                self._clock(),
                "batch",
            )
        )

    async def fetch_rotations(self) -> list[RotationWork]:
        if not isinstance(self.store, RotationStore):
            return []
        return [
            RotationWork(
                r.id,
                str(r.statement.chain_id),
                r.statement.epoch,
                r.statement.threshold,
                r.statement.members,
            )
            for r in self.store.rotations(open_only=True)
        ]

    async def submit_rotation(self, attestation: RotationAttestation) -> None:
        if not isinstance(self.store, RotationStore):
            raise StoreUnavailable("the store keeps no rotations")
        self.store.add_rotation_signature(
            attestation.rotation_id,
            attestation.notary,
            attestation.digest,
            attestation.signature,
            self._clock(),
        )


def _fields(item: WorkItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in WorkItem.__dataclass_fields__}


def _failed_at(store: Any, transfer_id: str) -> FailedAt | None:
    """The destination's failure event the relayer recorded for ``transfer_id`` (step
    ``failed``; its payload is the work item's ``failure``), ``None`` when there is none."""
    action = store.action(transfer_id, Step.FAILED)
    if action is None:
        return None
    try:
        return FailedAt.from_json(action.payload)
    except (KeyError, TypeError, ValueError):
        return None


def _kind_of(kind: BatchKind) -> str:
    return "nondelivery" if kind is BatchKind.NONDELIVERY else "delivery"


def _item(record: Any, kind: str) -> list[WorkItem]:
    """The work item of ``record`` (none while its packet event is not recorded)."""
    if record.packet is None or record.source_tx is None or record.source_height is None:
        return []
    return [
        WorkItem(
            transfer_id=record.id,
            route_id=record.route_id,
            source_chain=str(record.packet.source),
            dest_chain=str(record.packet.destination),
            sequence=record.packet.sequence,
            height=int(record.source_height),
            tx_hash=record.source_tx,
            position=tuple(record.source_position or ()),
            kind=kind,  # type: ignore[arg-type]
        )
    ]


async def run_once(
    notary: Notary,
    source: WorkSource,
    *,
    limit: int = 50,
    concurrency: int = 16,
    batch_limit: int = 16,
) -> int:
    """One round: attest and submit what the source hands out; the number submitted.

    Items are attested ``concurrency`` at a time: each is mostly waiting on the
    chains' RPC (event listing, proof, headers), and the verifiers verify each
    height once for all the packets of its block. The signed log's check and
    record run without an ``await`` between them, so two items of one packet
    can never both sign.
    """
    gate = asyncio.Semaphore(concurrency)

    async def one(item: WorkItem) -> bool:
        async with gate:
            try:
                attestation = await notary.attest(item)
            except PjgwError as err:
                log.warning(
                    "refused %s (%s/%s): %s", item.transfer_id, item.route_id, item.sequence, err
                )
                return False
            await source.submit(attestation)
            return True

    done = 0
    if isinstance(source, RotationWorkSource):  # rare, and a rotation waits on them
        for rotation in await source.fetch_rotations():
            if rotation.rotation_id in notary.rotations_answered:
                continue
            try:
                signed = await notary.attest_rotation(rotation)
            except PjgwError as err:
                if not err.retryable:  # refused once, logged once
                    notary.rotations_answered.add(rotation.rotation_id)
                log.warning(
                    "refused rotation %s of %s: %s", rotation.rotation_id, rotation.chain_id, err
                )
                continue
            await source.submit_rotation(signed)
            notary.rotations_answered.add(rotation.rotation_id)
            done += 1
    if isinstance(source, BatchWorkSource):  # batches first: they carry most packets

        async def one_batch(batch: BatchWork) -> bool:
            try:
                attestation = await notary.attest_batch(batch)
            except PjgwError as err:
                log.warning("refused batch %s (%s): %s", batch.batch_id, batch.route_id, err)
                return False
            await source.submit_batch(attestation)
            return True

        # The round's batches at once (issue #15: one after the other, a burst's batches
        # waited seconds for each other's RPC): each batch's signed-log check and record
        # run without an ``await`` between them, as a single item's do.
        batches = await source.fetch_batches(batch_limit)
        done += sum(await asyncio.gather(*(one_batch(b) for b in batches)))
    items = await source.fetch(limit)
    notary.metrics.last_poll.set(time.time())
    done += sum(await asyncio.gather(*(one(item) for item in items)))
    return done


async def run_notary(
    notary: Notary,
    source: WorkSource,
    *,
    poll_interval: float = 1.0,
    follow_interval: float = 5.0,
    limit: int = 50,
    stop: asyncio.Event | None = None,
) -> None:
    """Attest forever (until ``stop`` is set); retryable failures wait one interval.

    Every ``follow_interval`` seconds the notary also follows each chain to its
    finalized height (``Notary.follow``), work or not: its light clients stay
    fresh, and a node that starts serving a fork is caught before any packet
    depends on it.
    """
    next_follow = 0.0
    while stop is None or not stop.is_set():
        now = time.monotonic()
        if now >= next_follow:
            next_follow = now + follow_interval
            await notary.follow()
        try:
            done = await run_once(notary, source, limit=limit)
        except PjgwError as err:
            if not err.retryable:
                raise
            log.warning("notary round failed, retrying: %s", err)
            done = 0
        if not done:
            await asyncio.sleep(poll_interval)
