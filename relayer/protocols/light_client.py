"""The ``light_client`` route protocol: the destination's own light client of the source decides.

No committee signs anything. The state machine is the ``notary`` one
(``relayer/protocols/notary.py``: journal before send, crash recovery, receipts,
acknowledgements) with two steps replaced:

``proven``    -> ``attested`` once the destination's on-chain light client of the
              source holds a consensus state at the packet's height. If it does
              not, the relayer sends it that header (from the highest height it
              holds below; through an intermediate header when the validator set
              changed too much for one skip) and waits for it to land. One update
              serves every packet of its block: updates of one route are made
              under one lock and a second packet of the block finds it held.
``attested``  -> ``dest_submitted``: the delivery carries the packet's inclusion
              proof in the source block's events instead of a certificate.

SECURITY: nothing is relayed that the hub has not verified first: the packet
was proven against the hub's own light client (``source_final`` -> ``proven``,
unchanged), and an update is sent only when the header inside it is the one the
hub's light client verified at that height. The destination trusts neither:
its client checks the commit, the bridge checks the proof
(``docs/light-client-route.md``).

Refunds: a packet that timed out goes to ``timed_out`` like on a notary route;
its refund needs a non-delivery certificate of the source's committee (a
source bridge has no light client of the destination yet), so on a route
without notaries it waits there with that reason.

Family-neutral: the destination adapter offers ``core.seams.OnChainClientHost``
and the source adapter ``OnChainClientSource``; a route whose adapters lack
them waits for an operator with the reason.
"""

from __future__ import annotations

import asyncio

from core.errors import (
    ChainRejected,
    ChainUnavailable,
    ClientFrozen,
    ConfigError,
    InsufficientPower,
)
from core.ids import ChainId, Height
from core.records import RouteRecord, TransferRecord
from core.seams import OnChainClientHost, OnChainClientSource, OnChainClientStatus
from core.states import TransferState
from core.types import ChainAction, Packet
from relayer.protocols.base import Context
from relayer.protocols.notary import NotaryProtocol

S = TransferState
MAX_BISECTION = 32
"""Intermediate headers tried for one update before giving up (each halves the gap)."""
PENDING_UPDATE_S = 30.0
"""An update sent for a height is not sent again for this long: the packets of its block
wait for it to land instead of each rebuilding it (the adapter would dedupe the send, but
not the header fetches before it)."""
REMEMBERED_HEIGHTS = 4096
"""Heights per route known to be held on chain (a client never forgets one; a freeze is
found by the next height's status read, and the bridge refuses deliveries meanwhile)."""

Route = tuple[ChainId, ChainId]


class LightClientProtocol(NotaryProtocol):
    """The ``light_client`` state machine; one instance per ``Relayer``."""

    name = "light_client"

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self._locks: dict[Route, asyncio.Lock] = {}
        self._held: dict[Route, dict[int, None]] = {}  # insertion-ordered sets of heights
        self._kind: dict[Route, str] = {}
        self._client: dict[Route, str] = {}  # the client the remembered heights are of
        self._pending: dict[tuple[ChainId, ChainId, int], float] = {}

    def _parts(self, route: RouteRecord) -> tuple[OnChainClientHost, OnChainClientSource]:
        dest = self.ctx.adapter(route.destination)
        source = self.ctx.adapter(route.source)
        if not isinstance(dest, OnChainClientHost):
            raise ConfigError(
                f"{route.destination} hosts no on-chain light clients: a light_client route "
                "needs a destination whose bridge verifies proofs itself"
            )
        if not isinstance(source, OnChainClientSource):
            raise ConfigError(f"{route.source} cannot encode its headers for an on-chain client")
        return dest, source

    # --- proven -> attested: the destination's client holds the packet's height -----------

    async def _proven(self, route: RouteRecord, t: TransferRecord) -> TransferRecord | None:
        if t.admitted_at is None:  # sent on the source without the API: checked here, once
            (t,) = await self.ctx.screen([t], S.PROVEN, "source")
            if t.state is not S.PROVEN:
                return t
        event, packet = await self._event_and_packet(route, t)
        if await self._is_timed_out(route, packet):
            return await self.ctx.move(t, S.TIMED_OUT, "the destination passed the timeout")
        host, source = self._parts(route)
        height = Height(int(event.height))
        pair = (route.source, route.destination)
        where = f"the light client of {route.source} on {route.destination}"
        if int(height) in self._held.get(pair, {}):
            return await self.ctx.move(t, S.ATTESTED, f"{where} holds height {height}")
        lock = self._locks.setdefault(pair, asyncio.Lock())
        async with lock:
            status = await host.onchain_client_status(route.source, height)
            where = f"{where} ({status.client})"
            if status.frozen:
                raise ClientFrozen(f"{where} is frozen: misbehaviour was submitted to it")
            self._seen(pair, status)
            if status.holds:
                self._remember(pair, int(height))
                return await self.ctx.move(t, S.ATTESTED, f"{where} holds height {height}")
            if status.kind not in source.onchain_client_kinds:
                raise ConfigError(f"{where} verifies {status.kind}: {route.source} cannot")
            key = (route.source, route.destination, int(height))
            sent_at = self._pending.get(key)
            if sent_at is not None and self.ctx.now() - sent_at < PENDING_UPDATE_S:
                await self.ctx.wait(t, f"an update to {height} was sent; waiting for {where}")
                return None
            sent, reached = await self._update(route, host, source, status, height)
            if reached:
                self._pending[key] = self.ctx.now()
                self._prune()
        await self.ctx.wait(t, f"{sent}; waiting for {where} to hold height {height}")
        return None

    def _seen(self, pair: Route, status: OnChainClientStatus) -> None:
        """Note the client read; another client (the admin replaced it) forgets the heights."""
        if self._client.get(pair) != status.client:
            self._held.pop(pair, None)
            self._client[pair] = status.client
        self._kind[pair] = status.kind

    def _remember(self, pair: Route, height: int) -> None:
        held = self._held.setdefault(pair, {})
        held[height] = None
        while len(held) > REMEMBERED_HEIGHTS:
            held.pop(next(iter(held)))
        self._pending.pop((pair[0], pair[1], height), None)

    def _prune(self) -> None:
        now = self.ctx.now()
        for key in [k for k, at in self._pending.items() if now - at >= PENDING_UPDATE_S]:
            del self._pending[key]

    async def _update(
        self,
        route: RouteRecord,
        host: OnChainClientHost,
        source: OnChainClientSource,
        status: OnChainClientStatus,
        height: Height,
    ) -> tuple[str, bool]:
        """Send one update towards ``height``: what was sent (for the transfer's history)
        and whether it was ``height`` itself (not an intermediate header)."""
        if status.trusted is None:
            raise ConfigError(
                f"the light client of {route.source} holds no height below {height}: "
                "it must be re-anchored by its admin"
            )
        trusted = int(status.trusted)
        target = int(height)
        for _ in range(MAX_BISECTION):
            verified = await self.ctx.keeper.verified_at(route.source, target)
            update = await source.onchain_client_update(
                status.kind, Height(trusted), Height(target)
            )
            if update.header_hash != verified.header_hash or int(update.height) != target:
                raise ChainUnavailable(
                    f"{route.source} served another header at {target} than the one the hub "
                    "verified: not relayed"
                )
            try:
                tx_hash = await host.submit_client_update(status, update)
            except InsufficientPower as err:
                if err.details.get("check") != "trust-overlap" or target - trusted <= 1:
                    raise ChainRejected(f"client update refused: {err.message}") from err
                target = (trusted + target) // 2
                continue
            reached = target == int(height)
            towards = "" if reached else f" (towards {height})"
            return (
                f"client update {trusted} -> {target}{towards} sent as 0x{tx_hash.hex()}",
                reached,
            )
        raise ChainRejected(f"no update path from {trusted} to {height} in {MAX_BISECTION} headers")

    # --- attested -> dest_submitted: delivery with the inclusion proof ---------------------

    async def delivery_action(
        self, route: RouteRecord, t: TransferRecord, packet: Packet
    ) -> ChainAction | None:
        event, _packet = await self._event_and_packet(route, t)
        host, source = self._parts(route)
        pair = (route.source, route.destination)
        kind = self._kind.get(pair)
        if kind is None or int(event.height) not in self._held.get(pair, {}):
            status = await host.onchain_client_status(route.source, Height(int(event.height)))
            if not status.holds:
                await self.ctx.wait(t, f"the client of {route.source} does not hold {event.height}")
                return None
            self._seen(pair, status)
            kind = status.kind
            self._remember(pair, int(event.height))
        proof = await self.ctx.adapter(route.source).prove(event)
        return host.deliver_with_proof_action(
            packet, source.onchain_packet_proof(kind, event, proof)
        )


__all__ = ["LightClientProtocol"]
