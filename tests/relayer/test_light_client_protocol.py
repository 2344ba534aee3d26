"""The ``light_client`` protocol's update rule, on stand-ins of the two capabilities.

What the relayer sends to a destination's on-chain client: from the highest
height the client holds below the packet's, the header the hub's own light
client verified (another header is refused before anything is sent), and the
midpoint first when the client refuses the skip (``trust-overlap``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from core.errors import ChainRejected, ChainUnavailable, ConfigError, InsufficientPower
from core.ids import ChainId, Height
from core.records import RouteProtocol, RouteRecord
from core.seams import OnChainClientHost, OnChainClientSource, OnChainClientStatus, OnChainUpdate
from core.types import ChainAction, ChainEvent, InclusionProof, Packet
from relayer.protocols.light_client import LightClientProtocol

SRC, DST = ChainId("src-chain"), ChainId("dst-chain")
ROUTE = RouteRecord("r", SRC, DST, RouteProtocol.LIGHT_CLIENT)
KIND = "test-kind"


def hash_at(height: int) -> bytes:
    return height.to_bytes(32, "big")


@dataclass
class Host:
    """Refuses a skip of more than ``max_skip`` heights, as a client whose sets rotate."""

    max_skip: int
    sent: list[tuple[int, int]] = field(default_factory=list)

    async def onchain_client_status(self, source: ChainId, height: Height) -> OnChainClientStatus:
        raise AssertionError("not used here")

    async def submit_client_update(
        self, status: OnChainClientStatus, update: OnChainUpdate
    ) -> bytes:
        trusted = int.from_bytes(update.data[:8], "big")
        if int(update.height) - trusted > self.max_skip:
            raise InsufficientPower("skip refused", check="trust-overlap")
        self.sent.append((trusted, int(update.height)))
        return b"\x11" * 32

    def deliver_with_proof_action(self, packet: Packet, proof: bytes) -> ChainAction:
        raise AssertionError("not used here")


@dataclass
class Source:
    onchain_client_kinds: frozenset[str] = frozenset({KIND})
    lie_at: int | None = None

    async def onchain_client_update(
        self, kind: str, trusted: Height, target: Height
    ) -> OnChainUpdate:
        served = hash_at(target) if target != self.lie_at else b"\xee" * 32
        return OnChainUpdate(kind, target, served, int(trusted).to_bytes(8, "big"))

    def onchain_packet_proof(self, kind: str, event: ChainEvent, proof: InclusionProof) -> bytes:
        raise AssertionError("not used here")


@dataclass
class Keeper:
    verified: list[int] = field(default_factory=list)

    async def verified_at(self, chain_id: ChainId, height: int, **_: Any) -> Any:
        self.verified.append(height)
        return type("V", (), {"header_hash": hash_at(height)})()


def protocol(keeper: Keeper) -> LightClientProtocol:
    ctx = type("Ctx", (), {"keeper": keeper})()
    made = LightClientProtocol.__new__(LightClientProtocol)
    made.ctx = ctx  # type: ignore[assignment]
    return made


def status(trusted: int | None) -> OnChainClientStatus:
    return OnChainClientStatus("0xclient", KIND, Height(trusted or 0), False, False, trusted)


def update(
    p: LightClientProtocol, host: Host, source: Source, trusted: int | None, height: int
) -> tuple[str, bool]:
    """What the protocol sent, and whether it reached ``height`` itself."""
    return asyncio.run(p._update(ROUTE, host, source, status(trusted), Height(height)))


def test_the_stand_ins_are_the_capabilities() -> None:
    assert isinstance(Host(1), OnChainClientHost)
    assert isinstance(Source(), OnChainClientSource)


def test_one_skip_when_the_client_accepts_it() -> None:
    host, keeper = Host(max_skip=100), Keeper()
    said, reached = update(protocol(keeper), host, Source(), 10, 50)
    assert host.sent == [(10, 50)]
    assert keeper.verified == [50]
    assert "10 -> 50" in said
    assert reached


def test_a_refused_skip_sends_the_midpoint_first() -> None:
    host, keeper = Host(max_skip=10), Keeper()
    said, reached = update(protocol(keeper), host, Source(), 10, 50)
    assert host.sent == [(10, 20)]  # 50 refused, then 30, then 20 accepted
    assert keeper.verified == [50, 30, 20]
    assert "towards 50" in said
    assert not reached  # an intermediate: the next step sends again from 20


def test_a_header_the_hub_did_not_verify_is_never_sent() -> None:
    host = Host(max_skip=100)
    with pytest.raises(ChainUnavailable, match="not relayed"):
        update(protocol(Keeper()), host, Source(lie_at=50), 10, 50)
    assert host.sent == []


def test_an_adjacent_refusal_is_a_rejection_not_a_bisection() -> None:
    host = Host(max_skip=0)
    with pytest.raises(ChainRejected, match="client update refused"):
        update(protocol(Keeper()), host, Source(), 10, 11)


def test_a_client_holding_nothing_below_needs_an_operator() -> None:
    with pytest.raises(ConfigError, match="re-anchored"):
        update(protocol(Keeper()), Host(1), Source(), None, 11)
