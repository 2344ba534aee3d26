"""The EVM bridge's books (``core.seams.BridgeLedger``): escrow and voucher supply.

``Bridge.escrowed(keccak(counterparty), token)`` holds what a route keeps in escrow
(``address(0)`` for the native coin, the token a denomination names through
``Bridge.baseTokenOf`` otherwise); a voucher of ``<home>/<denom>`` is the
``WrappedToken`` at ``Bridge.voucherOf(keccak(path))``, whose ``totalSupply`` is
every voucher outstanding here. Plain ``eth_call`` reads at ``latest``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from adapters.evm.artifacts import load_artifact
from adapters.evm.certificate import NATIVE_DENOM
from core.errors import ChainUnavailable
from core.ids import ChainId
from proofs.hashing import keccak256

ZERO_ADDRESS = "0x" + "00" * 20

Read = Callable[..., Awaitable[Any]]


class EvmBridgeLedger:
    """Reads of the bridge at ``bridge_address`` through ``read`` (the adapter's RPC)."""

    def __init__(self, read: Read, bridge_address: str) -> None:
        self._read = read
        self._bridge = bridge_address
        self._bridge_abi = load_artifact("Bridge")
        self._token_abi = load_artifact("WrappedToken")

    async def _view(self, to: str, artifact: Any, fn: str, *args: Any) -> Any:
        data = artifact.encode_call(fn, *args)
        answer = await self._read("eth_call", {"to": to, "data": "0x" + data.hex()}, "latest")
        if not isinstance(answer, str) or not answer.startswith("0x"):
            raise ChainUnavailable(f"eth_call {fn} to {to}: the node answered {answer!r:.40}")
        return artifact.decode_output(fn, bytes.fromhex(answer[2:]))

    async def escrowed(self, counterparty: ChainId, denom: str) -> int:
        if denom == NATIVE_DENOM:
            token = ZERO_ADDRESS
        else:
            found = await self._view(
                self._bridge, self._bridge_abi, "baseTokenOf", keccak256(denom.encode())
            )
            token = str(found).lower()
            if token == ZERO_ADDRESS:
                return 0  # never escrowed here under that name
        route = keccak256(str(counterparty).encode())
        return int(await self._view(self._bridge, self._bridge_abi, "escrowed", route, token))

    async def voucher_supply(self, path: str) -> int:
        voucher = await self._view(
            self._bridge, self._bridge_abi, "voucherOf", keccak256(path.encode())
        )
        if str(voucher).lower() == ZERO_ADDRESS:
            return 0
        return int(await self._view(str(voucher), self._token_abi, "totalSupply"))


__all__ = ["EvmBridgeLedger"]
