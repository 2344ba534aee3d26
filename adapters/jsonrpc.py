"""One JSON-RPC 2.0 request over HTTP, with the transport failures translated once.

The CometBFT and FISCO BCOS adapters speak JSON-RPC over HTTP POST and map a
node's error object each in its own words; what they share is here: a timeout
or a connection failure, an answer that is not a JSON object, or HTTP 429/5xx
is ``ChainUnavailable`` (retryable). (The EVM adapter's client batches and
retries, and keeps its own.)
"""

from __future__ import annotations

from typing import Any

import httpx

from core.errors import ChainUnavailable


async def post_call(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], label: str
) -> tuple[dict[str, Any], int]:
    """POST ``body``; the answer object and the HTTP status. ``label`` names the call in
    errors (``"FISCO RPC getBlockNumber"``)."""
    try:
        response = await client.post(url, json=body)
    except httpx.TimeoutException as err:
        raise ChainUnavailable(f"{label} timed out") from err
    except httpx.TransportError as err:
        raise ChainUnavailable(f"{label}: {type(err).__name__}") from err
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ChainUnavailable(f"{label}: HTTP {response.status_code}, not JSON")
    return answer, response.status_code


def require_available(status: int, label: str) -> None:
    """HTTP 429 or 5xx without a JSON-RPC error: the node is busy or down (retryable)."""
    if status == 429 or status >= 500:
        raise ChainUnavailable(f"{label}: HTTP {status}")


__all__ = ["post_call", "require_available"]
