"""The one light-client follower: anchor, advance, detect misbehaviour, persist, freeze.

Light clients are pure (``proofs``); this module does what they leave to the
caller, for every family alike, through the ``ChainAdapter``, ``LightClient``
and ``ClientCodec`` seams only. The hub's relayer and every notary run it;
they differ only in where the states live (:class:`ClientPersistence`: the
hub's store, or a notary's own files) and in how the first state is chosen.

Order of an update, as ibc-go's ``UpdateClient``:

1. **status**: a frozen client refuses everything (``ClientFrozen``); an
   expired one is refused by the light client (``HeaderExpired``);
2. **verify**: the header at the target height from the nearest trusted state
   below it, skipping ahead where the family allows (``ClientCodec.max_step``),
   halving the step when the trusted set's overlap is too small (bisection);
3. **misbehaviour**: a header served at a height already trusted with another
   hash that nevertheless verifies (a fork: the trusted base of every update and
   the height of every proven event are compared with what the node serves
   now), or a verified header whose time
   does not lie strictly between its trusted neighbours' (time), freezes the
   client and persists the evidence (the conflicting header with its commit
   and the trusted hash), so every process and the API see why;
4. **update**: the new consensus state is merged into the persisted record.

Heights below the lowest trusted state are reached by parent-hash links
(backfill), which needs no new trust: each header served is checked to hash
to the expected value, computed locally.

Trust anchor: a configured checkpoint (height and hash from outside the
node), else the node's word once (TOFU) at a height the caller chooses.

Lives in ``adapters/`` (beside the registry) because the relayer and the
notary are sibling layers: both may import this, neither the other.
CPU work (BLS pairings, hashing, decoding validator sets) runs in a thread so
the event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from core.errors import (
    BadEncoding,
    ClientFrozen,
    ConfigError,
    InsufficientPower,
    InvalidHeader,
    Misbehaviour,
    NotFound,
    RootMismatch,
    VerificationError,
)
from core.ids import ChainId, Height
from core.records import ClientRecord
from core.seams import ChainAdapter, ClientCodec, LightClient, Store
from core.types import HeaderUpdate

RECHECKED_HEIGHTS = 1024
"""Heights per chain whose served header was compared with the trusted one (LRU)."""
REFRESH_FRACTION = 1 / 3
"""A client is refreshed once less than this share of its trusting period is left (as
go-relayer and hermes do), traffic or not, so an idle route never lets it expire."""


# --- persistence ----------------------------------------------------------------------------


class ClientPersistence(Protocol):
    """Where a follower keeps its clients: one ``ClientRecord`` per chain.

    CONTRACT: ``save`` replaces the record atomically (a crash leaves the old
    or the new one, never a mix); ``load`` re-reads it (other processes may
    have saved since).
    """

    def load(self, chain_id: ChainId) -> ClientRecord | None: ...
    def save(self, record: ClientRecord) -> None: ...


class StorePersistence:
    """The hub's back-end: the store's ``light_clients`` tables (shared by every relayer)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def load(self, chain_id: ChainId) -> ClientRecord | None:
        return self.store.client(chain_id)

    def save(self, record: ClientRecord) -> None:
        self.store.save_client(record)


class FilePersistence:
    """A notary's back-end: one JSON file per chain in its own directory (fsync'd, renamed)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        # The last record read or written per chain, by the file's (mtime, size): a notary
        # reads its client for every packet, and parsing hundreds of states each time is waste.
        self._cache: dict[ChainId, tuple[tuple[int, int], ClientRecord]] = {}

    def _path(self, chain_id: ChainId) -> Path:
        return self.directory / f"{chain_id}.json"

    def _stamp(self, path: Path) -> tuple[int, int] | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def load(self, chain_id: ChainId) -> ClientRecord | None:
        path = self._path(chain_id)
        stamp = self._stamp(path)
        if stamp is None:
            return None
        cached = self._cache.get(chain_id)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        record = self._read(path)
        self._cache[chain_id] = (stamp, record)
        return record

    def _read(self, path: Path) -> ClientRecord:
        try:
            doc = json.loads(path.read_text())
            return ClientRecord(
                chain_id=ChainId(doc["chain_id"]),
                client_state=bytes.fromhex(doc["client_state"]),
                consensus_states={
                    int(h): bytes.fromhex(v) for h, v in doc["consensus_states"].items()
                },
                trusted_height=Height(int(doc["trusted_height"])),
                frozen=bool(doc["frozen"]),
                frozen_reason=str(doc["frozen_reason"]),
                updated_at=float(doc["updated_at"]),
                evidence=bytes.fromhex(doc.get("evidence", "")),
            )
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise BadEncoding(f"light-client file {path} is damaged: {err}") from err

    def save(self, record: ClientRecord) -> None:
        doc = {
            "chain_id": str(record.chain_id),
            "client_state": record.client_state.hex(),
            "consensus_states": {str(h): v.hex() for h, v in record.consensus_states.items()},
            "trusted_height": int(record.trusted_height),
            "frozen": record.frozen,
            "frozen_reason": record.frozen_reason,
            "updated_at": record.updated_at,
            "evidence": record.evidence.hex(),
        }
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".client-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(doc, f, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self._path(record.chain_id))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        stamp = self._stamp(self._path(record.chain_id))
        if stamp is not None:
            self._cache[record.chain_id] = (stamp, record)


# --- the follower ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Anchor:
    """A trusted ``(height, hash)`` taken outside the node (an operator's checkpoint)."""

    height: int
    hash: bytes


@dataclass(frozen=True, slots=True)
class FollowerSettings:
    """Bounds and trust choices of a follower (the relayer's and notary's settings map here).

    ``tofu_below_target``: with no checkpoint, the relayer trusts the node at
    the height just below the first one it must verify (so that one is
    verified); a notary trusts the node at its finalized height.
    """

    checkpoints: Mapping[str, Anchor]
    trusting_period: Callable[[ChainId], tuple[int, int]]
    max_backfill: int = 1024
    max_consensus_states: int = 256
    tofu_below_target: bool = True


@dataclass(frozen=True, slots=True)
class Verified:
    """A consensus state the follower's light client accepted at ``height``."""

    chain_id: ChainId
    height: Height
    light_client: LightClient
    codec: ClientCodec
    client_state: object
    consensus_state: object
    header_hash: bytes


@dataclass(frozen=True, slots=True)
class ClientExpiry:
    """When a client's newest trusted state leaves its trusting period (unix seconds)."""

    chain_id: ChainId
    trusted_height: int
    trusted_time: float
    trusting_period: int
    frozen: bool

    @property
    def expires_at(self) -> float:
        return self.trusted_time + self.trusting_period

    def expires_in(self, now: float) -> float:
        """Seconds left at ``now`` (0 once expired)."""
        return max(0.0, self.expires_at - now)

    def is_due(self, now: float, fraction: float = REFRESH_FRACTION) -> bool:
        """True when an unfrozen client has ``fraction`` of its trusting period left or less."""
        return not self.frozen and self.expires_at - now <= self.trusting_period * fraction


def client_expiry(codec: ClientCodec, record: ClientRecord, consensus: object) -> ClientExpiry:
    """The expiry of ``record`` whose state at its trusted height is ``consensus`` (decoded)."""
    client = codec.decode_client(record.client_state)
    return ClientExpiry(
        record.chain_id,
        int(record.trusted_height),
        codec.state_time_ms(consensus) / 1000,
        int(codec.trusting_period(client)),
        record.frozen,
    )


def encode_evidence(
    kind: str, height: int, trusted_hash: bytes, header: HeaderUpdate, conflicting_hash: bytes
) -> bytes:
    """The persisted evidence of a freeze: JSON with the conflicting header and its commit."""
    return json.dumps(
        {
            "kind": kind,
            "height": height,
            "trusted_hash": "0x" + trusted_hash.hex(),
            "conflicting_hash": "0x" + conflicting_hash.hex(),
            "header": "0x" + header.encoded.hex(),
            "commit": "0x" + header.evidence.hex(),
        },
        sort_keys=True,
    ).encode()


class LightClientFollower:
    """Anchors, advances and persists one light client per chain, for every family.

    Advancing a chain is serialised by an ``asyncio.Lock`` per chain in this
    process; across processes the record is re-read before each save and the
    states merged, so two relayers verifying different heights both keep
    their work.
    """

    def __init__(
        self,
        persistence: ClientPersistence,
        adapters: Mapping[ChainId, ChainAdapter],
        settings: FollowerSettings,
        clock: Callable[[], float],
    ) -> None:
        self.persistence = persistence
        self.adapters = adapters
        self.settings = settings
        self.clock = clock
        self._locks: dict[ChainId, asyncio.Lock] = {}
        self._decoded: dict[tuple[ChainId, int, bytes], object] = {}
        self._clients: dict[ChainId, tuple[LightClient, ClientCodec]] = {}
        self._rechecked: dict[ChainId, OrderedDict[int, bytes]] = {}

    # --- status -----------------------------------------------------------------------

    async def frozen_reason(self, chain_id: ChainId) -> str | None:
        """Why the client of ``chain_id`` is frozen, or ``None`` when it is not."""
        record = await self._load(chain_id)
        if record is not None and record.frozen:
            return record.frozen_reason or "light client frozen"
        return None

    def parts(self, chain_id: ChainId) -> tuple[ChainAdapter, LightClient, ClientCodec]:
        """The chain's adapter, light client and codec (built once per chain)."""
        adapter = self.adapters.get(chain_id)
        if adapter is None:
            raise ConfigError(f"no adapter for chain {chain_id}")
        if chain_id not in self._clients:
            self._clients[chain_id] = (adapter.light_client(), adapter.client_codec())
        lc, codec = self._clients[chain_id]
        return adapter, lc, codec

    async def expiry(self, chain_id: ChainId) -> ClientExpiry | None:
        """The expiry of the client of ``chain_id`` (``None`` before it is anchored)."""
        record = await self._load(chain_id)
        if record is None or int(record.trusted_height) not in record.consensus_states:
            return None
        codec = self.parts(chain_id)[2]
        client = codec.decode_client(record.client_state)
        state = await self._state_at(chain_id, record, int(record.trusted_height), client)
        return client_expiry(codec, record, state)

    async def refresh(
        self, chain_id: ChainId, *, fraction: float = REFRESH_FRACTION
    ) -> ClientExpiry | None:
        """Advance the client to the finalized height when ``fraction`` of its trusting
        period or less is left; its expiry afterwards (``None``: never anchored, which only
        traffic does, at the height it needs).

        Raises what ``latest_verified`` raises (a frozen client is left as it is).
        """
        expiry = await self.expiry(chain_id)
        if expiry is None or not expiry.is_due(self.clock(), fraction):
            return expiry
        await self.latest_verified(chain_id)
        return await self.expiry(chain_id)

    # --- verified states --------------------------------------------------------------

    async def verified_at(
        self, chain_id: ChainId, height: int, *, recheck: bool = False
    ) -> Verified:
        """The consensus state at exactly ``height``, verifying the header there if needed.

        With ``recheck``, a height already trusted is compared once with the
        header the node serves now: a different header that verifies is a
        fork and freezes the client (``ClientFrozen``).

        ``ClientFrozen`` when the client is frozen; ``ConfigError`` when
        ``height`` lies too far below the trust anchor; the light client's
        ``VerificationError`` when the header is refused.
        """
        lock = self._locks.setdefault(chain_id, asyncio.Lock())
        async with lock:
            return await self._verified_at(chain_id, int(height), recheck)

    async def latest_verified(self, chain_id: ChainId) -> Verified:
        """A verified consensus state at the chain's finalized height."""
        adapter, _, _ = self.parts(chain_id)
        return await self.verified_at(chain_id, int(await adapter.finalized_height()))

    async def _verified_at(self, chain_id: ChainId, height: int, recheck: bool) -> Verified:
        codec = self.parts(chain_id)[2]
        now = int(self.clock())
        record = await self._load(chain_id)
        if record is not None and record.frozen:
            raise ClientFrozen(
                f"light client of {chain_id} is frozen: {record.frozen_reason}", chain=chain_id
            )
        if record is None:
            record = await self._anchor(chain_id, height, now)
        client = codec.decode_client(record.client_state)
        if height in record.consensus_states:
            state = await self._state_at(chain_id, record, height, client)
            if recheck:
                await self._recheck(chain_id, record, client, state, now)
            return self._verified(chain_id, client, state)
        below = [h for h in record.consensus_states if h < height]
        if not below:
            state = await self._backfill(chain_id, record, client, height, now)
            return self._verified(chain_id, client, state)
        state = await self._advance(chain_id, record, client, max(below), height, now)
        return self._verified(chain_id, client, state)

    def _verified(self, chain_id: ChainId, client: object, state: object) -> Verified:
        _, lc, codec = self.parts(chain_id)
        return Verified(
            chain_id,
            Height(codec.state_height(state)),
            lc,
            codec,
            client,
            state,
            codec.state_hash(state),
        )

    async def _advance(
        self,
        chain_id: ChainId,
        record: ClientRecord,
        client: object,
        base_height: int,
        height: int,
        now: int,
    ) -> object:
        """Verify forward from the trusted ``base_height`` to ``height`` (bisecting if needed)."""
        adapter, lc, codec = self.parts(chain_id)
        base = await self._state_at(chain_id, record, base_height, client)
        # The node must still serve the trusted base: one that now serves another valid
        # header there has been shown a fork (ibc-go checks a header at a known height).
        await self._recheck(chain_id, record, client, base, now, cached=False)
        step = codec.max_step()
        new_states: dict[int, object] = {}
        target = height if step is None else min(height, base_height + step)
        while base_height < height:
            header = await adapter.header_update(Height(base_height), Height(target))
            try:
                verified = await asyncio.to_thread(lc.verify_header, client, base, header, now)
            except InsufficientPower:
                # Bisection: too little of the trusted set signed the far header (the set
                # rotated): verify a header halfway first, then try again from it.
                if target - base_height <= 1:
                    await self._save(chain_id, codec, new_states)
                    raise
                target = base_height + (target - base_height) // 2
                continue
            except Misbehaviour as err:
                await self._freeze(chain_id, f"misbehaviour at height {target}: {err.message}", b"")
                raise ClientFrozen(f"light client of {chain_id} froze: {err.message}") from err
            await self._check_time(chain_id, record, client, verified, header)
            base, base_height = verified, target
            new_states[target] = verified
            target = height if step is None else min(height, base_height + step)
        await self._save(chain_id, codec, new_states)
        return base

    async def _check_time(
        self,
        chain_id: ChainId,
        record: ClientRecord,
        client: object,
        state: object,
        header: HeaderUpdate,
    ) -> None:
        """Time misbehaviour: a verified header must be later than the trusted state
        below it and earlier than the one above it (both strictly)."""
        _, _, codec = self.parts(chain_id)
        height, time_ms = codec.state_height(state), codec.state_time_ms(state)
        lower = [h for h in record.consensus_states if h < height]
        upper = [h for h in record.consensus_states if h > height]
        for neighbour_height, must_be_earlier in (
            (max(lower) if lower else None, True),
            (min(upper) if upper else None, False),
        ):
            if neighbour_height is None:
                continue
            neighbour = await self._state_at(chain_id, record, neighbour_height, client)
            other = codec.state_time_ms(neighbour)
            if (other >= time_ms) if must_be_earlier else (other <= time_ms):
                reason = (
                    f"time misbehaviour: verified header {height} at {time_ms} ms breaks the "
                    f"order of trusted height {neighbour_height} at {other} ms"
                )
                evidence = encode_evidence(
                    "time", height, codec.state_hash(neighbour), header, codec.state_hash(state)
                )
                await self._freeze(chain_id, reason, evidence)
                raise ClientFrozen(f"light client of {chain_id} froze: {reason}", chain=chain_id)

    async def _recheck(
        self,
        chain_id: ChainId,
        record: ClientRecord,
        client: object,
        state: object,
        now: int,
        *,
        cached: bool = True,
    ) -> None:
        """Compare the header the node serves at a trusted height with the trusted one.

        ``cached``: a height compared before in this process is not fetched again
        (many packets of one block are proven one after another).
        """
        adapter, lc, codec = self.parts(chain_id)
        height, trusted_hash = codec.state_height(state), codec.state_hash(state)
        seen = self._rechecked.setdefault(chain_id, OrderedDict())
        if cached and seen.get(height) == trusted_hash:
            return
        served = await adapter.header(Height(height))
        served_hash = await asyncio.to_thread(codec.header_hash, served)
        if served_hash == trusted_hash:
            seen[height] = trusted_hash
            while len(seen) > RECHECKED_HEIGHTS:
                seen.popitem(last=False)
            return
        below = [h for h in record.consensus_states if h < height]
        if not below:
            raise RootMismatch(
                f"the node serves another header at trusted height {height} of {chain_id}, "
                "and no trusted state lies below it to verify that one",
                check="trusted-header",
            )
        base_height = max(below)
        base = await self._state_at(chain_id, record, base_height, client)
        update = await adapter.header_update(Height(base_height), Height(height))
        # A conflicting header that does NOT verify is the node's lie, not the chain's
        # misbehaviour: it is refused and the client stays as it is.
        await asyncio.to_thread(lc.verify_header, client, base, update, now)
        reason = (
            f"fork: two valid headers at height {height} "
            f"(trusted 0x{trusted_hash.hex()[:16]}…, served 0x{served_hash.hex()[:16]}…)"
        )
        await self._freeze(
            chain_id, reason, encode_evidence("fork", height, trusted_hash, update, served_hash)
        )
        raise ClientFrozen(f"light client of {chain_id} froze: {reason}", chain=chain_id)

    async def _backfill(
        self, chain_id: ChainId, record: ClientRecord, client: object, height: int, now: int
    ) -> object:
        """A state BELOW the lowest trusted one, by the parent-hash chain down from it.

        SECURITY: sound without new trust: the lowest trusted header's hash is
        known, each header served is checked to hash to the expected value
        (computed locally), and its parent hash is then the expected hash one
        height down.
        """
        adapter, _, codec = self.parts(chain_id)
        low = min(record.consensus_states)
        if low - height > self.settings.max_backfill:
            raise ConfigError(
                f"height {height} of {chain_id} is {low - height} below the light client's "
                f"lowest trusted height {low} (max_backfill {self.settings.max_backfill}); "
                "configure an older checkpoint to relay it",
                chain=chain_id,
            )
        expected = codec.state_hash(await self._state_at(chain_id, record, low, client))
        current = low
        while current > height:
            header = await adapter.header(Height(current))
            if await asyncio.to_thread(codec.header_hash, header) != expected:
                raise RootMismatch(
                    f"header links of {chain_id} break between {height} and {low}",
                    check="parent-hash",
                )
            expected = codec.parent_hash(header)
            current -= 1
        header = await adapter.header(Height(height))
        state = await asyncio.to_thread(codec.anchor, client, header, expected, now)
        await self._save(chain_id, codec, {height: state})
        return state

    async def anchored_record(self, chain_id: ChainId, anchor: Anchor) -> ClientRecord:
        """A new client of ``chain_id`` trusting ``anchor`` (an operator's new trust anchor
        after a freeze), checked against the header the node serves there, NOT saved: the
        caller replaces the frozen record with it. ``ConfigError`` when they differ."""
        return await self._anchored(chain_id, anchor.height, int(self.clock()), anchor)

    async def _anchor(self, chain_id: ChainId, height: int, now: int) -> ClientRecord:
        record = await self._anchored(
            chain_id, height, now, self.settings.checkpoints.get(str(chain_id))
        )
        await asyncio.to_thread(self.persistence.save, record)
        return record

    async def _anchored(
        self, chain_id: ChainId, height: int, now: int, checkpoint: Anchor | None
    ) -> ClientRecord:
        adapter, _, codec = self.parts(chain_id)
        trusting_period, drift = self.settings.trusting_period(chain_id)
        client = codec.initial_client_state(trusting_period, drift)
        if checkpoint is not None:
            anchor_height, trusted_hash = checkpoint.height, checkpoint.hash
            header = await adapter.header(Height(anchor_height))
        else:
            finalized = int(await adapter.finalized_height())
            anchor_height = (
                max(codec.min_height, min(finalized, height - 1))
                if self.settings.tofu_below_target
                else max(codec.min_height, finalized)
            )
            header = await adapter.header(Height(anchor_height))
            trusted_hash = await asyncio.to_thread(codec.header_hash, header)  # TOFU, once
        if int(header.height) != anchor_height:
            raise InvalidHeader(f"node served header {header.height} for {anchor_height}")
        try:
            state = await asyncio.to_thread(codec.anchor, client, header, trusted_hash, now)
        except VerificationError as err:
            if checkpoint is None:
                raise
            # A checkpoint the node's chain does not match is the operator's to fix: it must
            # not reject the transfers that happened to need the anchor.
            raise ConfigError(
                f"the header of {chain_id} at checkpoint height {anchor_height} does not match "
                f"the configured checkpoint: {err.message}",
                chain=chain_id,
            ) from err
        return ClientRecord(
            chain_id=chain_id,
            client_state=codec.encode_client(client),
            consensus_states={anchor_height: codec.encode_consensus(state)},
            trusted_height=Height(anchor_height),
            updated_at=self.clock(),
        )

    async def _state_at(
        self, chain_id: ChainId, record: ClientRecord, height: int, client: object
    ) -> object:
        """The decoded consensus state ``record`` stores at ``height`` (decoded once per
        distinct bytes; decoding checks validator keys again, so it runs off the loop)."""
        data = record.consensus_states[height]
        key = (chain_id, height, hashlib.sha256(data).digest())
        found = self._decoded.get(key)
        if found is None:
            codec = self.parts(chain_id)[2]
            found = await asyncio.to_thread(codec.decode_consensus, data, client)
            self._remember(key, found)
        return found

    def _remember(self, key: tuple[ChainId, int, bytes], state: object) -> None:
        if len(self._decoded) > 4 * self.settings.max_consensus_states:
            self._decoded.clear()
        self._decoded[key] = state

    async def _load(self, chain_id: ChainId) -> ClientRecord | None:
        """The persisted record, read off the event loop (a store query, a file)."""
        return await asyncio.to_thread(self.persistence.load, chain_id)

    async def _save(
        self, chain_id: ChainId, codec: ClientCodec, states: Mapping[int, object]
    ) -> None:
        if not states:
            return
        current = await self._load(chain_id)  # re-read: another process may have added
        if current is None:
            raise NotFound(f"light client of {chain_id} vanished from its store")
        merged = dict(current.consensus_states)
        merged.update({h: codec.encode_consensus(s) for h, s in states.items()})
        keep = sorted(merged)[-self.settings.max_consensus_states :]
        await asyncio.to_thread(
            self.persistence.save,
            replace(
                current,
                consensus_states={h: merged[h] for h in keep},
                trusted_height=Height(max(current.trusted_height, *states)),
                updated_at=self.clock(),
            ),
        )

    async def _freeze(self, chain_id: ChainId, reason: str, evidence: bytes) -> None:
        current = await self._load(chain_id)
        if current is not None:
            frozen = replace(
                current,
                frozen=True,
                frozen_reason=reason,
                evidence=evidence,
                updated_at=self.clock(),
            )
            await asyncio.to_thread(self.persistence.save, frozen)


__all__ = [
    "REFRESH_FRACTION",
    "Anchor",
    "ClientExpiry",
    "ClientPersistence",
    "FilePersistence",
    "FollowerSettings",
    "LightClientFollower",
    "StorePersistence",
    "Verified",
    "client_expiry",
    "encode_evidence",
]
