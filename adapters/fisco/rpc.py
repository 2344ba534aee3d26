"""An async client for the FISCO BCOS 2.x JSON-RPC (positional params, group id first), on httpx.

Hand-written because the Python SDK of FISCO (``python-sdk``, not on PyPI)
bundles its own channel and crypto stacks; the adapter needs five read calls.

    httpx timeout / transport error            -> ChainUnavailable (retryable)
    HTTP 429 / 5xx without an RPC error, non-JSON -> ChainUnavailable
    any RPC error                              -> FiscoRpcError (not retryable)

Every request has a timeout. The transport is injectable (tests, recordings).
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx

from adapters.jsonrpc import post_call, require_available
from core.errors import ChainError


class FiscoRpcError(ChainError):
    """The FISCO node answered with a JSON-RPC error, or with a malformed result."""

    code = "fisco-rpc-error"


class FiscoRpc:
    """JSON-RPC to one FISCO BCOS 2.x node, for one group."""

    def __init__(
        self,
        url: str,
        group_id: int,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.group_id = group_id
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._ids = itertools.count(1)

    async def call(self, method: str, *params: Any) -> Any:
        """``method(group_id, *params)``'s ``result`` (may be ``None``: FISCO's "no such")."""
        body = {
            "jsonrpc": "2.0",
            "id": next(self._ids),
            "method": method,
            "params": [self.group_id, *params],
        }
        label = f"FISCO RPC {method}"
        answer, status = await post_call(self._client, self.url, body, label)
        error = answer.get("error")
        if error is not None:
            message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
            raise FiscoRpcError(f"{label} refused: {message[:200]}")
        require_available(status, label)
        return answer.get("result")

    async def block_number(self) -> int:
        return quantity(await self.call("getBlockNumber"), "getBlockNumber")

    async def block_header(self, height: int) -> dict[str, Any] | None:
        """``getBlockHeaderByNumber`` with the signature list."""
        result = await self.call("getBlockHeaderByNumber", hex(height), True)
        return _object_or_none(result, "getBlockHeaderByNumber")

    async def receipt(self, tx_hash: bytes) -> dict[str, Any] | None:
        result = await self.call("getTransactionReceipt", "0x" + tx_hash.hex())
        return _object_or_none(result, "getTransactionReceipt")

    async def transaction_with_proof(self, tx_hash: bytes) -> dict[str, Any] | None:
        result = await self.call("getTransactionByHashWithProof", "0x" + tx_hash.hex())
        return _object_or_none(result, "getTransactionByHashWithProof")

    async def aclose(self) -> None:
        await self._client.aclose()


def quantity(value: object, what: str) -> int:
    """A ``0x``-hex quantity of the node's answer (``FiscoRpcError`` otherwise)."""
    if isinstance(value, str) and value[:2] in ("0x", "0X") and len(value) > 2:
        try:
            return int(value, 16)
        except ValueError:
            pass
    raise FiscoRpcError(f"{what}: not a hex quantity")


def _object_or_none(result: object, what: str) -> dict[str, Any] | None:
    if result is None or isinstance(result, dict):
        return result
    raise FiscoRpcError(f"{what}: no result object")
