"""HTTP access to a ChainMaker gateway/SDK bridge (JSON, ``BlockInfo`` as the SDK exports it).

A ChainMaker node serves gRPC with messages only its SDKs sign and build; from
Python the hub reads a bridge that exposes the SDK's queries as JSON over HTTP:

* ``GET {url}/chains/{chain_id}/height`` -> ``{"block_height": n}``
  (``GetCurrentBlockHeight``);
* ``GET {url}/chains/{chain_id}/blocks/{h}?with_rwset=true`` -> ``BlockInfo``
  (``GetBlockByHeight``, protojson: snake_case, bytes base64), 404 unknown;
* ``GET {url}/chains/{chain_id}/txs/{tx_id}`` -> ``TransactionInfo``
  (``GetTxByTxId``), 404 unknown.

Every request has the settings' timeout; transport failures and 5xx are
``ChainUnavailable`` (retryable), 404 is ``NotFound``, anything else malformed
is ``ChainError``.
"""

from __future__ import annotations

from typing import Any

import httpx

from core.errors import ChainError, ChainUnavailable, NotFound

FAMILY = "chainmaker"


class ChainMakerHttp:
    """The bridge's three reads, with timeouts and errors translated at the boundary."""

    def __init__(
        self,
        url: str,
        chain_id: str,
        *,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=f"{url}/chains/{chain_id}", timeout=timeout, transport=transport
        )

    async def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        try:
            response = await self._client.get(path, params=params)
        except httpx.TimeoutException as err:
            raise ChainUnavailable(f"chainmaker bridge timed out on {path}") from err
        except httpx.TransportError as err:
            raise ChainUnavailable(f"chainmaker bridge unreachable: {type(err).__name__}") from err
        if response.status_code == 404:
            raise NotFound(f"chainmaker bridge: {path} not found")
        if response.status_code >= 500:
            raise ChainUnavailable(f"chainmaker bridge answered {response.status_code}")
        if response.status_code != 200:
            raise ChainError(f"chainmaker bridge answered {response.status_code}", family=FAMILY)
        try:
            doc = response.json()
        except ValueError as err:
            raise ChainError("chainmaker bridge sent no JSON", family=FAMILY) from err
        if not isinstance(doc, dict):
            raise ChainError("chainmaker bridge sent no JSON object", family=FAMILY)
        return doc

    async def height(self) -> int:
        value = (await self.get("/height")).get("block_height")
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ChainError("chainmaker bridge: no block_height", family=FAMILY)
        try:
            return int(value)
        except ValueError as err:
            raise ChainError("chainmaker bridge: a non-integer height", family=FAMILY) from err

    async def block(self, height: int) -> dict[str, Any]:
        return await self.get(f"/blocks/{height}", {"with_rwset": "true"})

    async def tx(self, tx_id: str) -> dict[str, Any]:
        return await self.get(f"/txs/{tx_id}")

    async def aclose(self) -> None:
        await self._client.aclose()
