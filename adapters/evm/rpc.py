"""A small async JSON-RPC 2.0 client for EVM nodes, over one pooled ``httpx.AsyncClient``.

It only moves requests and translates failures into the hub's error tree; the
EVM adapter built on top adds nonces, log scanning and reorg detection.

    httpx timeout / transport error  -> ChainUnavailable (retryable)
    HTTP 429 or 5xx, non-JSON answer -> ChainUnavailable (retryable)
    other HTTP 4xx without RPC error -> ChainError (not retryable: URL, auth)
    JSON-RPC error object            -> ChainRejected, with the revert reason
                                        decoded from ``Error(string)`` /
                                        ``Panic(uint256)`` data when present

Every call has a timeout (the client's, or one given per call).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from types import TracebackType
from typing import Any, Self

import httpx
from eth_abi import decode as abi_decode
from eth_abi.exceptions import DecodingError

from core.errors import ChainError, ChainRejected, ChainUnavailable, InvalidInput

DEFAULT_TIMEOUT = 10.0
MAX_BATCH = 1000

_ERROR_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
_PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)

RpcCall = tuple[str, Sequence[Any]]


class JsonRpcClient:
    """JSON-RPC over HTTP to one node. Use as ``async with`` or call ``aclose()``.

    ``transport`` lets tests use ``httpx.MockTransport`` without a socket.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 20,
    ) -> None:
        if timeout <= 0:
            raise InvalidInput("an RPC timeout must be positive", field="timeout")
        self.url = url
        self.timeout = timeout
        self._ids = itertools.count(1)
        self._http = httpx.AsyncClient(
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=max_connections),
            headers={"content-type": "application/json"},
        )

    async def call(self, method: str, *params: Any, timeout: float | None = None) -> Any:
        """Call one method and return its ``result``."""
        request_id = next(self._ids)
        body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": list(params)}
        answer = await self._post(body, timeout, what=method)
        if not isinstance(answer, dict):
            raise ChainUnavailable(f"{method}: answer is not a JSON-RPC object", url=self.url)
        return _result(answer, method)

    async def batch(
        self, calls: Sequence[RpcCall], *, timeout: float | None = None, strict: bool = True
    ) -> list[Any]:
        """Send ``calls`` as one JSON-RPC batch; results come back in the order of ``calls``.

        With ``strict`` the first failed call raises its ``ChainRejected``;
        otherwise failed calls appear in the list as ``ChainRejected`` instances.
        """
        if not calls:
            return []
        if len(calls) > MAX_BATCH:
            raise InvalidInput(f"a batch holds at most {MAX_BATCH} calls", field="calls")
        first = next(self._ids)
        self._ids = itertools.count(first + len(calls))
        body = [
            {"jsonrpc": "2.0", "id": first + i, "method": method, "params": list(params)}
            for i, (method, params) in enumerate(calls)
        ]
        answers = await self._post(body, timeout, what=f"batch of {len(calls)}")
        if not isinstance(answers, list):
            if isinstance(answers, dict) and "error" in answers:
                raise _rejected(answers["error"], "batch")
            raise ChainUnavailable("batch: answer is not a JSON-RPC array", url=self.url)
        by_id = {a.get("id"): a for a in answers if isinstance(a, dict)}
        results: list[Any] = []
        for i, (method, _) in enumerate(calls):
            answer = by_id.get(first + i)
            if answer is None:
                raise ChainUnavailable(f"batch: no answer for {method} (#{i})", url=self.url)
            try:
                results.append(_result(answer, method))
            except ChainRejected as err:
                if strict:
                    raise
                results.append(err)
        return results

    async def _post(self, body: object, timeout: float | None, *, what: str) -> Any:
        try:
            response = await self._http.post(self.url, json=body, timeout=timeout or self.timeout)
        except httpx.TimeoutException as err:
            raise ChainUnavailable(f"{what}: node timed out", url=self.url) from err
        except httpx.HTTPError as err:
            problem = f"{err.__class__.__name__}: {err}"
            raise ChainUnavailable(f"{what}: {problem}", url=self.url) from err
        status = response.status_code
        if status == 429 or status >= 500:
            raise ChainUnavailable(
                f"{what}: node answered HTTP {status}", url=self.url, status=status
            )
        try:
            payload = response.json()
        except ValueError as err:
            if response.is_error:
                raise _refused(what, status, self.url) from err
            raise ChainUnavailable(f"{what}: answer is not JSON", url=self.url) from err
        # Some nodes answer 4xx with a JSON-RPC error body: the caller turns that into
        # ChainRejected. Any other 4xx (401, 403, 404) is a configuration problem.
        carries_rpc = isinstance(payload, list) or (
            isinstance(payload, dict) and "error" in payload
        )
        if response.is_error and not carries_rpc:
            raise _refused(what, status, self.url)
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


def _refused(what: str, status: int, url: str) -> ChainError:
    return ChainError(
        f"{what}: node refused the request with HTTP {status}", url=url, status=status
    )


_TRANSIENT = ("BlockOutOfRangeError",)
"""Node answers that are not a verdict on the request: anvil names a block it has just
mined, or not yet, "out of range" for a moment; the same call succeeds when retried."""


def _result(answer: dict[str, Any], method: str) -> Any:
    if answer.get("error") is not None:
        error = answer["error"]
        message = str(error.get("message", "")) if isinstance(error, dict) else str(error)
        if any(marker in message for marker in _TRANSIENT):
            raise ChainUnavailable(f"{method}: {message}", method=method)
        raise _rejected(error, method)
    if "result" not in answer:
        raise ChainUnavailable(f"{method}: answer has neither result nor error")
    return answer["result"]


def _rejected(error: object, method: str) -> ChainRejected:
    if not isinstance(error, dict):
        return ChainRejected(f"{method}: {error!r}", method=method)
    message = str(error.get("message", "")) or "JSON-RPC error"
    data = _revert_data(error.get("data"))
    reason = decode_revert_reason(data) if data is not None else None
    text = f"{method}: {message}" if reason is None or reason in message else f"{method}: {reason}"
    return ChainRejected(
        text,
        method=method,
        rpc_code=error.get("code"),
        reason=reason,
        data="0x" + data.hex() if data is not None else None,
    )


def _revert_data(data: object) -> bytes | None:
    """Revert bytes from an error's ``data`` (a hex string, or nested ``{"data": hex}``)."""
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        try:
            return bytes.fromhex(data[2:])
        except ValueError:
            return None
    return None


def decode_revert_reason(data: bytes) -> str | None:
    """The reason of ``Error(string)`` or ``Panic(uint256)`` revert data, else None.

    Custom errors are left to callers who have the contract's ABI.
    """
    try:
        if data[:4] == _ERROR_SELECTOR:
            (reason,) = abi_decode(["string"], data[4:])
            return str(reason)
        if data[:4] == _PANIC_SELECTOR:
            (code,) = abi_decode(["uint256"], data[4:])
            return f"panic 0x{code:02x}"
    except (DecodingError, ValueError, OverflowError):
        return None
    return None
