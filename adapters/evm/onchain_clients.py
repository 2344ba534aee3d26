"""The EVM side of a ``light_client`` route: ``core.seams.OnChainClientHost``.

The bridge names the light client of each source chain
(``Bridge.lightClientOf(keccak256(source))``, set by its admin); the client is
a ``PujiangLightClient`` (``contracts/PujiangLightClient.sol``). This module
reads the client's status, sends updates to it and builds the bridge's
``receivePacketWithProof`` action. Nothing is configured on the hub's side:
the bridge address is enough, and the hub cannot point a route at a client
the bridge's admin did not set.

The clients this adapter hosts verify ``CLIENT_KIND`` updates: a BLS12-381
(min-pk, IETF PoP ciphersuite) commit over a header with RFC 6962 events
roots, as the source adapter encodes them (``adapters/pujiang/evm_client_update.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from eth_hash.auto import keccak

from adapters.evm.artifacts import load_artifact
from adapters.evm.bridge import to_evm_packet
from core.errors import ChainRejected, ChainUnavailable, ConfigError, InsufficientPower
from core.ids import ChainId, Height
from core.seams import OnChainClientStatus, OnChainUpdate
from core.types import ChainAction, Packet

CLIENT_KIND = "bls12381-minpk-rfc6962-v1"
"""What ``PujiangLightClient.sol`` verifies (the source adapter must encode for it)."""
RECEIVE_WITH_PROOF = "bridge.receivePacketWithProof"
UPDATE_CLIENT = "client.updateClient"
TRUST_GAP_REASON = "LC: trust-overlap"
ZERO_ADDRESS = "0x" + "00" * 20

Read = Callable[..., Awaitable[Any]]


class EvmClientHost:
    """Reads and actions of the light clients the bridge at ``bridge_address`` names."""

    def __init__(
        self,
        read: Read,
        bridge_address: str,
        submit: Callable[[ChainAction], Awaitable[bytes]],
        *,
        from_block: int = 0,
        log_range: int = 2_000,
    ) -> None:
        self._read = read
        self._from_block = from_block
        self._log_range = log_range
        self._bridge = bridge_address
        self._submit = submit
        self._bridge_abi = load_artifact("Bridge")
        self._client_abi = load_artifact("PujiangLightClient")

    async def _call(self, to: str, data: bytes) -> bytes:
        answer = await self._read("eth_call", {"to": to, "data": "0x" + data.hex()}, "latest")
        if not isinstance(answer, str) or not answer.startswith("0x"):
            raise ChainUnavailable(f"eth_call to {to}: the node answered {answer!r:.40}")
        return bytes.fromhex(answer[2:])

    async def _view(self, fn: str, *args: Any, to: str | None = None) -> Any:
        artifact = self._client_abi if to else self._bridge_abi
        out = await self._call(to or self._bridge, artifact.encode_call(fn, *args))
        return artifact.decode_output(fn, out)

    async def client_of(self, source: ChainId) -> str:
        address = str(await self._view("lightClientOf", keccak(str(source).encode()))).lower()
        if address == ZERO_ADDRESS:
            raise ConfigError(
                f"the bridge {self._bridge} has no light client of {source}: its admin sets one "
                "with setLightClient before a light_client route can deliver"
            )
        return address

    async def status(self, source: ChainId, height: Height) -> OnChainClientStatus:
        client = await self.client_of(source)
        latest = int(await self._view("latestHeight", to=client))
        frozen = int(await self._view("frozenHeight", to=client)) != 0
        held = await self._view("consensusStates", int(height), to=client)
        holds = bytes(held[0]) != bytes(32)
        trusted = latest if latest < int(height) else await self._held_below(client, int(height))
        return OnChainClientStatus(
            client=client,
            kind=CLIENT_KIND,
            latest=Height(latest),
            frozen=frozen,
            holds=holds,
            trusted=None if trusted is None else Height(trusted),
        )

    async def _held_below(self, client: str, height: int) -> int | None:
        """The highest height below ``height`` the client holds, from its ``ClientUpdated`` logs
        since the chain's configured ``start_height`` (the bridge's deployment; only read when
        a packet is older than the client's latest height)."""
        topic = "0x" + keccak(b"ClientUpdated(uint64,bytes32,bytes32)").hex()
        latest = int(await self._read("eth_blockNumber"), 16)
        best: int | None = None
        for start in range(self._from_block, latest + 1, self._log_range):
            end = min(latest, start + self._log_range - 1)
            logs = await self._read(
                "eth_getLogs",
                {
                    "address": client,
                    "fromBlock": hex(start),
                    "toBlock": hex(end),
                    "topics": [topic],
                },
            )
            for log in logs:
                topics = log.get("topics", [])
                held = int(topics[1], 16) if len(topics) > 1 else None
                if held is not None and held < height and (best is None or held > best):
                    best = held
        return best

    async def submit_update(self, status: OnChainClientStatus, update: OnChainUpdate) -> bytes:
        if update.kind != CLIENT_KIND:
            raise ConfigError(
                f"the light client at {status.client} verifies {CLIENT_KIND}, not {update.kind}"
            )
        selector = self._client_abi.encode_call("updateClient", _EMPTY_UPDATE)[:4]
        action = ChainAction(
            "raw",
            {"to": status.client, "data": selector + update.data},
            f"{UPDATE_CLIENT}:{status.client}/{int(update.height)}/0x{update.header_hash.hex()}",
        )
        try:
            return await self._submit(action)
        except ChainRejected as err:
            if TRUST_GAP_REASON in str(err.details.get("reason") or err.message):
                raise InsufficientPower(
                    f"the client at {status.client} needs a header between its trusted height "
                    f"and {int(update.height)} (the validator set changed too much)",
                    check="trust-overlap",
                ) from err
            raise

    def deliver_action(self, packet: Packet, proof: bytes) -> ChainAction:
        return ChainAction(
            RECEIVE_WITH_PROOF,
            {"args": [to_evm_packet(packet).as_abi(), proof]},
            f"{RECEIVE_WITH_PROOF}:{packet.source_chain}/{packet.dest_chain}/{packet.sequence}",
        )


_EMPTY_UPDATE = (0, b"", b"", b"", b"", [], b"", [])


__all__ = ["CLIENT_KIND", "EvmClientHost"]
