"""The conservation law of a devnet <-> anvil pair, read from the two chains themselves.

For every asset that travels between a Pujiang (devnet) chain and an EVM
(anvil) chain through their bridges, at any quiescent moment::

    escrowed on its home chain == vouchers outstanding on the other chain + in flight

read ONLY from the chains (never from the hub's database):

* **escrowed**: devnet home: the balance of the route's escrow account
  (``devnet.modules.bridge.escrow_address(<anvil chain id>)``) in the denom,
  from ``GET /v1/accounts/{escrow}``; anvil home:
  ``Bridge.escrowed(keccak(<devnet chain id>), token)`` (token ``address(0)``
  for the native coin);
* **outstanding**: vouchers on the other chain: on anvil
  ``WrappedToken(Bridge.voucherOf(keccak("<home>/<denom>"))).totalSupply()``,
  on the devnet ``GET /v1/supply?denom=<home>/<denom>``;
* **in flight**: packets whose value has left one side and not reached the
  other: every ``send_packet`` of the asset (home -> away with the home denom,
  away -> home with the voucher denom ``<home>/<denom>``) whose commitment is
  still pending on its source (devnet ``packet/<dest>/<seq>``, anvil
  ``Bridge.commitments``) and that its destination has not received (devnet
  ``recv/<source>/<seq>``, anvil ``Bridge.received``). A refunded packet has
  no commitment any more; a delivered one is received.

CONTRACT: read at a quiescent moment (no relayer stepping between the reads
of the two chains), or a delivery landing between two reads shows as a
transient mismatch. Packets are read by scanning every ``send_packet`` event
from ``AnvilView.start_block`` and from the devnet's height 1: fine for test
chains, not for a long-lived chain.

Use::

    devnet = DevnetView(url, "pujiang-devnet", transport=None)   # a process: transport None
    anvil = AnvilView(rpc_url, "anvil-31337", bridge_address)
    ledgers = check_conservation(devnet, anvil, [Asset("pujiang-devnet", "upj")])
    # or, inside a running event loop: await assert_conservation(devnet, anvil, assets)
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
from eth_hash.auto import keccak

from adapters.evm.adapter import EvmAdapter
from adapters.evm.artifacts import load_artifact
from adapters.evm.settings import EvmChainSettings
from adapters.pujiang import PujiangAdapter, PujiangSettings
from core.ids import Height
from core.types import EventKind, Packet
from devnet.modules.bridge import escrow_address
from devnet.state import packet_key, recv_key
from proofs.pujiang import codec

ZERO_ADDRESS = "0x" + "00" * 20
NATIVE = "native"
"""The EVM bridge's denomination of its chain's native coin (``Bridge.NATIVE_DENOM``)."""


@dataclass(frozen=True)
class DevnetView:
    """Where the Pujiang chain is: its API ``url`` (``transport`` for an in-process node)."""

    url: str
    chain_id: str
    transport: httpx.AsyncBaseTransport | None = None


@dataclass(frozen=True)
class AnvilView:
    """Where the EVM chain is: its JSON-RPC ``rpc_url``, the hub's ``chain_id`` and ``bridge``."""

    rpc_url: str
    chain_id: str
    bridge: str
    evm_chain_id: int = 31337
    start_block: int = 0  # the bridge's deployment block: no packet is older


@dataclass(frozen=True)
class Asset:
    """A token by its home chain and its denomination THERE.

    ``Asset("pujiang-devnet", "upj")``; ``Asset("anvil-31337", "native")``;
    ``Asset("anvil-31337", "0x<token address, lower-case>")`` (the EVM bridge's
    denomination of a local ERC-20).
    """

    home: str
    denom: str


@dataclass(frozen=True)
class Ledger:
    """One asset's balance sheet across the pair, as read from the chains."""

    asset: Asset
    away: str
    escrowed: int
    outstanding: int
    in_flight_out: int  # home -> away: escrowed, not yet minted
    in_flight_back: int  # away -> home: burned, not yet released
    pending: tuple[str, ...]  # the in-flight packets, "source/dest/sequence"

    @property
    def voucher(self) -> str:
        """The asset's denomination on the other chain: ``<home>/<denom>``."""
        return f"{self.asset.home}/{self.asset.denom}"

    @property
    def in_flight(self) -> int:
        return self.in_flight_out + self.in_flight_back

    @property
    def holds(self) -> bool:
        return self.escrowed == self.outstanding + self.in_flight

    def __str__(self) -> str:
        sign = "==" if self.holds else "!="
        return (
            f"{self.asset.denom} of {self.asset.home}: escrowed {self.escrowed} {sign} "
            f"outstanding {self.outstanding} ({self.voucher} on {self.away}) + in flight "
            f"{self.in_flight} (out {self.in_flight_out}, back {self.in_flight_back}: "
            f"{', '.join(self.pending) or 'none'})"
        )


class ConservationBroken(AssertionError):
    """The law does not hold for at least one asset; the message shows every ledger."""


# --- the two readers -------------------------------------------------------------------------


class _Devnet:
    def __init__(self, view: DevnetView) -> None:
        self.view = view
        self.adapter = PujiangAdapter(
            PujiangSettings(url=view.url, chain_id=view.chain_id, retry_attempts=1),
            transport=view.transport,
        )

    async def _state(self, key: bytes) -> bytes | None:
        answer = await self.adapter.node.get("/v1/proofs/state", {"key": "0x" + key.hex()})
        value = answer.get("value")
        return None if value is None else bytes.fromhex(str(value)[2:])

    async def escrowed(self, counterparty: str, denom: str) -> int:
        status = await self.adapter.status()
        hash_fn = codec.hash_profile(str(status.get("hash_profile", "sha256")))
        escrow = escrow_address(counterparty.encode(), hash_fn)
        account = await self.adapter.node.get(f"/v1/accounts/0x{escrow.hex()}")
        return int(account["balances"].get(denom, "0"))

    async def supply(self, denom: str) -> int:
        return int((await self.adapter.node.get("/v1/supply", {"denom": denom}))["supply"])

    async def sent(self, dest: str) -> list[Packet]:
        latest = int(await self.adapter.latest_height())
        events = await self.adapter.events(Height(1), Height(latest))
        bridge = self.adapter.bridge()
        packets = [bridge.packet_of(e) for e in events if e.kind is EventKind.SEND_PACKET]
        return [p for p in packets if p.dest_chain == dest]

    async def pending(self, packet: Packet) -> bool:
        return (
            await self._state(packet_key(packet.dest_chain.encode(), packet.sequence)) is not None
        )

    async def received(self, source: str, sequence: int) -> bool:
        return await self._state(recv_key(source.encode(), sequence)) is not None

    async def aclose(self) -> None:
        await self.adapter.aclose()


class _Anvil:
    def __init__(self, view: AnvilView) -> None:
        self.view = view
        self.adapter = EvmAdapter(
            EvmChainSettings(
                chain=view.chain_id,
                rpc_url=view.rpc_url,
                evm_chain_id=view.evm_chain_id,
                bridge_address=view.bridge,
                confirmations=0,
                read_retries=1,
            )
        )
        self.bridge_abi = load_artifact("Bridge")
        self.token_abi = load_artifact("WrappedToken")

    async def _view(self, address: str, artifact: object, fn: str, *args: object) -> object:
        data = artifact.encode_call(fn, *args)  # type: ignore[attr-defined]
        answer = await self.adapter.reader.call(
            "eth_call", {"to": address, "data": "0x" + data.hex()}, "latest"
        )
        return artifact.decode_output(fn, bytes.fromhex(answer[2:]))  # type: ignore[attr-defined]

    async def _bridge(self, fn: str, *args: object) -> object:
        return await self._view(self.view.bridge, self.bridge_abi, fn, *args)

    async def escrowed(self, counterparty: str, denom: str) -> int:
        token = ZERO_ADDRESS if denom == NATIVE else denom
        return int(await self._bridge("escrowed", keccak(counterparty.encode()), token))  # type: ignore[call-overload]

    async def supply(self, denom: str) -> int:
        voucher = str(await self._bridge("voucherOf", keccak(denom.encode())))
        if int(voucher, 16) == 0:
            return 0
        return int(await self._view(voucher, self.token_abi, "totalSupply"))  # type: ignore[call-overload]

    async def sent(self, dest: str) -> list[Packet]:
        latest = int(await self.adapter.latest_height())
        start = min(self.view.start_block, latest)
        events = await self.adapter.events(Height(start), Height(latest))
        bridge = self.adapter.bridge()
        packets = [bridge.packet_of(e) for e in events if e.kind is EventKind.SEND_PACKET]
        return [p for p in packets if p.dest_chain == dest]

    async def pending(self, packet: Packet) -> bool:
        route = keccak(str(packet.dest_chain).encode())
        stored = await self._bridge("commitments", route, packet.sequence)
        return bytes(stored) != b"\0" * 32  # type: ignore[arg-type]

    async def received(self, source: str, sequence: int) -> bool:
        return bool(await self._bridge("received", keccak(source.encode()), sequence))

    async def aclose(self) -> None:
        await self.adapter.aclose()


# --- the law ---------------------------------------------------------------------------------


async def _in_flight(
    source: _Devnet | _Anvil, dest: _Devnet | _Anvil, denom: str
) -> tuple[int, list[str]]:
    """Amount and ids of ``source``'s packets of ``denom`` pending there, unreceived at ``dest``."""
    total, ids = 0, []
    for packet in await source.sent(dest.view.chain_id):
        if packet.denom != denom or not packet.amount:
            continue
        if not await source.pending(packet):
            continue  # refunded (its commitment is gone)
        if await dest.received(str(packet.source_chain), packet.sequence):
            continue  # delivered
        total += packet.amount
        ids.append(f"{packet.source_chain}/{packet.dest_chain}/{packet.sequence}")
    return total, ids


async def read_ledger(devnet: DevnetView, anvil: AnvilView, asset: Asset) -> Ledger:
    """One asset's ledger, read from both chains (see the module docstring for each term)."""
    return (await read_ledgers(devnet, anvil, [asset]))[0]


async def read_ledgers(
    devnet: DevnetView, anvil: AnvilView, assets: Sequence[Asset]
) -> list[Ledger]:
    """The ledger of each asset (every asset's ``home`` is one of the two chains)."""
    readers = {devnet.chain_id: _Devnet(devnet), anvil.chain_id: _Anvil(anvil)}
    try:
        ledgers = []
        for asset in assets:
            if asset.home not in readers:
                raise ValueError(f"asset home {asset.home!r} is neither chain of the pair")
            home = readers[asset.home]
            away = next(r for chain, r in readers.items() if chain != asset.home)
            away_id = away.view.chain_id
            voucher = f"{asset.home}/{asset.denom}"
            out, out_ids = await _in_flight(home, away, asset.denom)
            back, back_ids = await _in_flight(away, home, voucher)
            ledgers.append(
                Ledger(
                    asset=asset,
                    away=away_id,
                    escrowed=await home.escrowed(away_id, asset.denom),
                    outstanding=await away.supply(voucher),
                    in_flight_out=out,
                    in_flight_back=back,
                    pending=tuple(out_ids + back_ids),
                )
            )
        return ledgers
    finally:
        for reader in readers.values():
            await reader.aclose()


async def assert_conservation(
    devnet: DevnetView, anvil: AnvilView, assets: Sequence[Asset]
) -> list[Ledger]:
    """Read every asset's ledger; ``ConservationBroken`` (an ``AssertionError``) naming each
    ledger when any one does not hold; the ledgers when all do."""
    ledgers = await read_ledgers(devnet, anvil, assets)
    if not all(ledger.holds for ledger in ledgers):
        raise ConservationBroken("conservation broken:\n" + "\n".join(map(str, ledgers)))
    return ledgers


def check_conservation(
    devnet: DevnetView, anvil: AnvilView, assets: Sequence[Asset]
) -> list[Ledger]:
    """:func:`assert_conservation` for synchronous callers (not inside a running loop)."""
    return asyncio.run(assert_conservation(devnet, anvil, assets))


__all__ = [
    "NATIVE",
    "AnvilView",
    "Asset",
    "ConservationBroken",
    "DevnetView",
    "Ledger",
    "assert_conservation",
    "check_conservation",
    "read_ledger",
    "read_ledgers",
]
