"""Bounds on HTTP input, enforced before anything parses it (pure ASGI, standard library only).

Every HTTP server of the project (the hub's API, the devnet node) runs behind
``InputBounds``. It refuses, as RFC 9457 problem+json and without calling the
app, a request whose

* target (path and query) is longer than ``target_bytes`` (414 ``uri-too-long``);
* headers are more than ``header_count`` or ``header_bytes`` (431 ``headers-too-large``);
* body is larger than its route's bound (413 ``too-large``, from ``Content-Length``
  before a byte is read, else while reading);
* body does not arrive within ``body_seconds`` (408 ``request-timeout``): a client
  sending a byte a second holds a connection for that long, not forever;
* body, read as JSON, nests deeper than ``json_depth``, has more than ``json_keys``
  keys or a number longer than ``number_chars`` (422 ``too-complex``).

Why the JSON pre-scan: CPython's C JSON parser recurses once per nesting level,
guarded only by the interpreter's recursion limit, which libraries raise at
import (py_ecc sets 100,000): a 200 KB body of ``[`` then overflowed the C stack
and killed the process. ``core.runtime.bound_recursion`` restores the limit; the
scan makes deep input a 4xx before ``json.loads`` or pydantic ever sees it. It
counts brackets, keys and number lengths outside strings with one regular
expression, after cheaper ``bytes.count`` checks that settle most bodies.

The scan is not a validator: malformed JSON within the bounds passes through and
the app refuses it as before. The body is read once here and replayed to the app.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import (
    HeadersTooLarge,
    PjgwError,
    RequestTimeout,
    TooComplex,
    TooLarge,
    UriTooLong,
)
from core.problem import PROBLEM_MEDIA_TYPE, problem_document

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_INSTANCE_CHARS = 256
"""The problem's ``instance`` (the path) is cut here: a 100,000-character path is not echoed."""

_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}:]|[-+0-9.eE]+')
"""A JSON string (skipped whole), a bracket, a key's colon, or a run of number characters."""


@dataclass(frozen=True, slots=True)
class InputLimits:
    """The bounds of one server; ``route_bodies`` maps ``"METHOD /exact/path"`` to bytes."""

    body_bytes: int = 64 * 1024
    route_bodies: Mapping[str, int] = field(default_factory=dict)
    json_depth: int = 32
    json_keys: int = 10_000
    number_chars: int = 100
    target_bytes: int = 8 * 1024
    header_count: int = 100
    header_bytes: int = 16 * 1024
    body_seconds: float = 10.0

    def body_limit(self, method: str, path: str) -> int:
        return self.route_bodies.get(f"{method} {path}", self.body_bytes)


def json_violation(body: bytes, limits: InputLimits) -> str | None:
    """Why ``body`` breaks the JSON bounds, or None (also for non-JSON: the app decides)."""
    deep = body.count(b"[") + body.count(b"{") > limits.json_depth
    keyed = body.count(b":") > limits.json_keys
    long_numbers = re.search(rb"[-+0-9.eE]{%d}" % (limits.number_chars + 1), body) is not None
    if not (deep or keyed or long_numbers):
        return None
    depth = keys = 0
    for match in _TOKEN.finditer(body):
        token = match.group()
        first = token[0]
        if first == 0x22:  # a string: its content is not structure
            continue
        if first in (0x5B, 0x7B):
            depth += 1
            if depth > limits.json_depth:
                return f"JSON nested deeper than {limits.json_depth} levels"
        elif first in (0x5D, 0x7D):
            depth -= 1
        elif first == 0x3A:
            keys += 1
            if keys > limits.json_keys:
                return f"JSON with more than {limits.json_keys} keys"
        elif len(token) > limits.number_chars:
            return f"JSON number longer than {limits.number_chars} characters"
    return None


def head_violation(scope: Scope, limits: InputLimits) -> PjgwError | None:
    """The error of a request target or header block over its bounds, or None."""
    target = len(scope.get("raw_path") or b"") + len(scope.get("query_string") or b"")
    if target > limits.target_bytes:
        return UriTooLong(f"the request target exceeds {limits.target_bytes} bytes")
    headers = scope.get("headers") or []
    if len(headers) > limits.header_count:
        return HeadersTooLarge(f"more than {limits.header_count} request headers")
    if sum(len(k) + len(v) for k, v in headers) > limits.header_bytes:
        return HeadersTooLarge(f"request headers exceed {limits.header_bytes} bytes")
    return None


class _Disconnected(Exception):
    """The client went away while sending its body: nothing to answer."""


class InputBounds:
    """ASGI middleware: the request is bounded (head, body size and time, JSON shape) first."""

    def __init__(self, app: ASGIApp, limits: InputLimits | None = None) -> None:
        self.app = app
        self.limits = limits or InputLimits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = self.limits
        refused = head_violation(scope, limits)
        if refused is not None:
            await answer(send, refused, scope)
            return
        limit = limits.body_limit(scope.get("method", ""), scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await answer(send, TooLarge(f"the request body exceeds {limit} bytes"), scope)
            return
        try:
            body = await _read_body(receive, limit, limits.body_seconds)
        except _Disconnected:
            return
        except PjgwError as err:
            await answer(send, err, scope)
            return
        if body:
            reason = json_violation(body, limits)
            if reason is not None:
                await answer(send, TooComplex(reason), scope)
                return
        await self.app(scope, _replay(body, receive), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length" and value.isdigit():
            return int(value)
    return None


async def _read_body(receive: Receive, limit: int, seconds: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(seconds):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _Disconnected
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"the request body exceeds {limit} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)
    except TimeoutError:
        raise RequestTimeout(f"the request body did not arrive within {seconds:g} s") from None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body once, then the server's own messages (``http.disconnect``)."""
    pending = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed


async def answer(
    send: Send, error: PjgwError, scope: Scope, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Send ``error`` as problem+json and close the connection (the body may be unread)."""
    instance = str(scope.get("path", ""))[:MAX_INSTANCE_CHARS]
    payload = json.dumps(problem_document(error, instance)).encode()
    head = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(payload)).encode()),
        (b"connection", b"close"),
        *headers,
    ]
    await send({"type": "http.response.start", "status": error.http_status, "headers": head})
    await send({"type": "http.response.body", "body": payload})


__all__ = ["InputBounds", "InputLimits", "answer", "head_violation", "json_violation"]
