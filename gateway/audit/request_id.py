"""A request id for every API request: the audit log's link from an entry to a request.

Pure ASGI (no third-party code, like ``core.http_server``): a caller's
``X-Request-Id`` is kept when it is a short token (``[A-Za-z0-9._:-]{1,64}``),
else a fresh one is made; either way the response carries it back, and the
audit context (:mod:`gateway.audit.context`) holds it while the request runs.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from gateway.audit import context

HEADER = b"x-request-id"
_VALID = re.compile(rb"^[A-Za-z0-9._:-]{1,64}$")


def request_id_of(headers: list[tuple[bytes, bytes]]) -> str:
    """The caller's id when well formed, else a new random one."""
    for name, value in headers:
        if name.lower() == HEADER and _VALID.match(value):
            return value.decode("ascii")
    return uuid.uuid4().hex


class RequestIds:
    """Middleware: a request id per HTTP request, in the audit context and the response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope.get("headers") or [])
        token = context.begin_request(request_id)

        async def send_with_id(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            context.end_request(token)


__all__ = ["RequestIds", "request_id_of"]
