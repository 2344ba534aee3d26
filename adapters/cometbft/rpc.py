"""An async client for the CometBFT RPC (JSON-RPC 2.0 over HTTP POST), on ``httpx``.

Hand-written because the Python Cosmos libraries (cosmpy, mospy) target the
Cosmos SDK's gRPC/REST gateways, not the CometBFT RPC the light client needs
(``/commit``, ``/validators`` with their exact JSON); the client is a thin
request/translate layer. Parameters follow CometBFT's JSON-RPC encoding:
64-bit integers as decimal strings, ``[]byte`` as base64, ``HexBytes`` as hex.

    httpx timeout / transport error  -> ChainUnavailable (retryable)
    HTTP 429 / 5xx without an RPC error, non-JSON -> ChainUnavailable
    RPC error "height … must be less than or equal to the current blockchain
    height", "… is not available, lowest height is …"  -> HeightUnavailable
    RPC error "tx (…) not found"     -> TxNotFound
    any other RPC error              -> CometRpcError (not retryable)

Every request has a timeout. The transport is injectable (tests, ASGI).
"""

from __future__ import annotations

import base64
import itertools
import re
from types import TracebackType
from typing import Any, Self

import httpx

from adapters.jsonrpc import post_call, require_available
from core.errors import ChainError, NotFound

_HEIGHT_UNAVAILABLE = re.compile(
    r"must be less than or equal to the current blockchain height"
    r"|is not available, lowest height is"
    r"|could not find (?:results|validators) for height"
)
_TX_NOT_FOUND = re.compile(r"^tx \([0-9A-Fa-f]*\) not found")


class CometRpcError(ChainError):
    """The CometBFT node answered with a JSON-RPC error."""

    code = "cometbft-rpc-error"


class HeightUnavailable(NotFound):
    """The node has no data at that height (above its tip, or pruned)."""

    code = "cometbft-height-unavailable"


class TxNotFound(NotFound):
    """The node's transaction index holds no transaction with that hash."""

    code = "cometbft-tx-not-found"


class CometRpc:
    """JSON-RPC to one CometBFT node. Use as ``async with`` or call ``aclose()``."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self._client = httpx.AsyncClient(timeout=timeout, transport=transport)
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """``method(params)``'s ``result`` object, or a typed error (see the module docstring)."""
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        label = f"CometBFT RPC {method}"
        answer, status = await post_call(self._client, self.url, body, label)
        error = answer.get("error")
        if error is not None:
            raise _rpc_error(method, error)
        require_available(status, label)
        result = answer.get("result")
        if not isinstance(result, dict):
            raise CometRpcError(f"CometBFT RPC {method}: no result object")
        return result

    # --- the endpoints the adapter uses ------------------------------------------------

    async def status(self) -> dict[str, Any]:
        return await self.call("status")

    async def commit(self, height: int) -> dict[str, Any]:
        return await self.call("commit", height=str(height))

    async def validators(self, height: int, *, per_page: int, max_pages: int) -> list[Any]:
        """Every validator at ``height``, over as many pages as ``total`` says (bounded)."""
        found: list[Any] = []
        for page in range(1, max_pages + 1):
            result = await self.call(
                "validators", height=str(height), page=str(page), per_page=str(per_page)
            )
            items = result.get("validators")
            if not isinstance(items, list):
                raise CometRpcError("validators: no list")
            if str(result.get("block_height")) != str(height):
                raise CometRpcError(f"validators: asked height {height}, got another")
            found.extend(items)
            total = _int(result.get("total"), "validators.total")
            if len(found) >= total or not items:
                if len(found) != total:
                    raise CometRpcError(f"validators: {len(found)} listed, total says {total}")
                return found
        raise CometRpcError(f"validators at {height}: more than {max_pages} pages")

    async def block(self, height: int) -> dict[str, Any]:
        return await self.call("block", height=str(height))

    async def block_results(self, height: int) -> dict[str, Any]:
        return await self.call("block_results", height=str(height))

    async def abci_query(self, path: str, data: bytes, height: int) -> dict[str, Any]:
        """The ``response`` of a proven query of ``data`` at ``height`` (``HexBytes``: hex)."""
        result = await self.call(
            "abci_query", path=path, data=data.hex(), height=str(height), prove=True
        )
        response = result.get("response")
        if not isinstance(response, dict):
            raise CometRpcError("abci_query: no response object")
        return response

    async def broadcast_tx_sync(self, tx: bytes) -> dict[str, Any]:
        return await self.call("broadcast_tx_sync", tx=base64.b64encode(tx).decode())

    async def tx(self, tx_hash: bytes) -> dict[str, Any]:
        return await self.call("tx", hash=base64.b64encode(tx_hash).decode(), prove=False)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def _rpc_error(method: str, error: object) -> ChainError | NotFound:
    if not isinstance(error, dict):
        return CometRpcError(f"CometBFT RPC {method}: malformed error")
    data = str(error.get("data") or "")
    text = f"CometBFT RPC {method}: {error.get('message', '')} {data}".strip()[:300]
    if _HEIGHT_UNAVAILABLE.search(data):
        return HeightUnavailable(text)
    if _TX_NOT_FOUND.search(data):
        return TxNotFound(text)
    return CometRpcError(text, rpc_code=error.get("code"))


def _int(value: object, what: str) -> int:
    try:
        return int(str(value))
    except ValueError as err:
        raise CometRpcError(f"{what} is not an integer") from err
