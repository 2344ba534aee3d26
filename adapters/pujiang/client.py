"""The HTTP boundary to a Pujiang node: one pooled ``httpx.AsyncClient``, retries, errors.

Everything httpx can raise, and every error status the node answers, becomes
an error of ``core.errors`` here (``raise … from err``); nothing above this
module sees httpx::

    httpx timeout / transport error   -> ChainUnavailable (retryable)
    HTTP 429 or 5xx, non-JSON answer  -> ChainUnavailable (retryable)
    HTTP 404                          -> NotFound (the block / tx / proof does not exist)
    HTTP 400 / 422 on a read          -> InvalidInput (the node refused our bounds)
    HTTP 4xx on POST /v1/txs          -> ChainRejected, with the node's reason
    any other HTTP 4xx                -> ChainError (URL, auth: a configuration problem)

Retries (exponential backoff with jitter, ``settings.retry_attempts`` in all)
only repeat what cannot do harm twice:

* every ``GET`` — a read;
* ``POST /v1/txs`` with the *same signed bytes*. A transaction is idempotent by
  its hash: ``tx_hash = H(tx)`` names it in the mempool and in the chain, and the
  account nonce inside the signed body lets it execute at most once. So after a
  timeout or a 5xx (where the node may or may not have taken it) sending the
  identical bytes again is safe, and a "rejected" answer to the repeat is
  checked against ``GET /v1/txs/{hash}`` before being believed. What is never
  done is building a *new* transaction (new nonce, new signature) to retry: that
  would be a second transaction. ``POST /v1/blocks`` is never retried.

Every request carries the settings' timeout.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self

import httpx

from adapters.pujiang.settings import PujiangSettings
from core.errors import (
    ChainError,
    ChainRejected,
    ChainUnavailable,
    InvalidInput,
    NotFound,
    PjgwError,
)

log = logging.getLogger("pjgw.adapters.pujiang")

Sleep = Callable[[float], Awaitable[None]]
Json = dict[str, Any]


class NodeClient:
    """JSON over HTTP to one Pujiang node. Use as ``async with`` or call ``aclose()``.

    ``transport`` is the test seam: ``httpx.ASGITransport`` runs the node's app
    in-process, ``httpx.MockTransport`` stands in for the node, ``None`` is a
    real socket. ``sleep`` and ``rng`` make the backoff observable in tests.
    """

    def __init__(
        self,
        settings: PujiangSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.settings = settings
        self.base_url = redact_url(settings.url)  # what errors and logs show
        self._sleep = sleep
        self._rng = rng
        self._timeout = httpx.Timeout(settings.timeout, connect=settings.connect_timeout)
        self._http = httpx.AsyncClient(
            base_url=settings.url,
            timeout=self._timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=settings.max_connections),
            headers={"accept": "application/json"},
        )

    # --- reads -------------------------------------------------------------------

    async def get(self, path: str, params: Mapping[str, object] | None = None) -> Json:
        """``GET path`` with retries; the decoded JSON object."""
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        return await self._with_retries(
            f"GET {path}", lambda: self._exchange("GET", path, params=query)
        )

    # --- writes ------------------------------------------------------------------

    async def post_tx(self, tx: bytes, tx_hash: bytes) -> Json:
        """``POST /v1/txs``; repeats only the identical bytes (see the module docstring).

        A refusal is checked with ``GET /v1/txs/{hash}`` before it is believed:
        if the node already knows this very transaction, posting it again is
        success, which makes resubmitting journaled bytes idempotent.
        """
        body = {"tx": "0x" + tx.hex()}

        async def once() -> Json:
            try:
                return await self._exchange("POST", "/v1/txs", json=body, write=True)
            except ChainRejected:
                # Already taken (an earlier attempt landed, or a restarted relayer
                # re-sends what it journaled): the same bytes, the same transaction.
                if await self.find_tx(tx_hash) is None:
                    raise
                return {"tx_hash": "0x" + tx_hash.hex()}

        return await self._with_retries("POST /v1/txs", once)

    async def find_tx(self, tx_hash: bytes) -> Json | None:
        """The node's record of a transaction, or None if it never saw it."""
        try:
            return await self.get(f"/v1/txs/0x{tx_hash.hex()}")
        except NotFound:
            return None

    async def post_once(self, path: str, body: Json | None = None) -> Json:
        """A non-idempotent ``POST``: one attempt, never repeated."""
        return await self._exchange("POST", path, json=body or {}, write=True)

    # --- the machinery -----------------------------------------------------------

    async def _with_retries(self, what: str, call: Callable[[], Awaitable[Json]]) -> Json:
        attempts = self.settings.retry_attempts
        for attempt in range(1, attempts + 1):
            try:
                return await call()
            except ChainUnavailable as err:
                if attempt == attempts:
                    raise
                delay = self.backoff(attempt, err.details.get("retry_after"))
                log.warning(
                    "%s failed (%s), attempt %d of %d; retrying in %.2fs",
                    what,
                    err.message,
                    attempt,
                    attempts,
                    delay,
                )
                await self._sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def backoff(self, attempt: int, retry_after: object = None) -> float:
        """Delay before retry number ``attempt`` (1-based): exponential, capped, jittered.

        "Equal jitter": half the capped exponential step is kept, the other half
        is random, so clients that failed together do not retry together yet
        never hammer the node with zero delays. A numeric ``Retry-After`` from
        the node raises the delay (still under the cap).
        """
        cap = self.settings.retry_backoff_max
        step = min(cap, self.settings.retry_backoff * 2 ** (attempt - 1))
        delay = step / 2 + self._rng() * step / 2
        if isinstance(retry_after, int | float) and retry_after > delay:
            delay = min(float(retry_after), cap)
        return delay

    async def _exchange(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Json | None = None,
        write: bool = False,
    ) -> Json:
        what = f"{method} {path}"
        try:
            response = await self._http.request(
                method, path, params=params, json=json, timeout=self._timeout
            )
        except httpx.TimeoutException as err:
            raise ChainUnavailable(f"{what}: node timed out", url=self.base_url) from err
        except httpx.HTTPError as err:
            raise ChainUnavailable(
                f"{what}: {type(err).__name__}: {err}", url=self.base_url
            ) from err
        if response.is_error:
            raise _status_error(what, response, write=write, url=self.base_url)
        try:
            payload = response.json()
        except ValueError as err:
            raise ChainUnavailable(f"{what}: answer is not JSON", url=self.base_url) from err
        if not isinstance(payload, dict):
            raise ChainError(f"{what}: answer is not a JSON object", url=self.base_url)
        return payload

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def redact_url(url: str) -> str:
    """``url`` without its user-info: basic-auth credentials never reach an error or a log."""
    scheme, sep, rest = url.partition("://")
    host, at, tail = rest.partition("@")
    if not at or "/" in host:
        return url
    return f"{scheme}{sep}***@{tail}"


def _status_error(what: str, response: httpx.Response, *, write: bool, url: str) -> PjgwError:
    """The hub's error for an error status, with the node's problem+json detail when present."""
    status = response.status_code
    detail, code, reason = _problem(response)
    text = f"{what}: node answered HTTP {status}" + (f": {detail}" if detail else "")
    details: dict[str, object] = {"url": url, "status": status, "node_code": code}
    if reason is not None:
        details["reason_code"] = reason  # the node's stable code of a refused tx
    if status == 429 or status >= 500:
        return ChainUnavailable(text, retry_after=_retry_after(response), **details)
    if status == 404:
        return NotFound(text, **details)
    if write and status in (400, 409, 422):
        return ChainRejected(text, reason=detail, **details)
    if status in (400, 422):
        return InvalidInput(text, **details)
    return ChainError(text, **details)


def _problem(response: httpx.Response) -> tuple[str, str | None, str | None]:
    """``detail`` (or ``title``), ``code`` and ``reason`` of an RFC 9457 body, when it is one."""
    try:
        body = response.json()
    except ValueError:
        return "", None, None
    if not isinstance(body, dict):
        return "", None, None
    detail = body.get("detail") or body.get("title") or ""
    code, reason = body.get("code"), body.get("reason")
    return (
        str(detail)[:500],
        str(code) if code is not None else None,
        str(reason) if reason is not None else None,
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    try:
        return float(value) if value else None
    except ValueError:
        return None  # an HTTP date: the capped backoff applies
