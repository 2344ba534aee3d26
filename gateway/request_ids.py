"""A request id for every API request: in the response's ``X-Request-Id`` and in its log lines.

A caller's own ``X-Request-Id`` is kept when it is a short token (letters,
digits, ``.``, ``_``, ``-``; at most 64), so a client can follow its request
through the hub's logs; anything else is replaced by a fresh random id (a
hostile header never reaches a log line). The id is put in the log context
(``core.logs``) for the whole request, streamed responses included, and in the audit
context (``gateway.audit.context``), so every audit entry the request writes names it.
"""

from __future__ import annotations

import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logs import log_context
from gateway.audit import context as audit_context

HEADER = b"x-request-id"
_TOKEN = re.compile(rb"[A-Za-z0-9._-]{1,64}")


def request_id(scope: Scope) -> str:
    """The caller's well-formed ``X-Request-Id``, else a new random one."""
    for name, value in scope.get("headers", ()):
        if name == HEADER and _TOKEN.fullmatch(value):
            return value.decode()
    return secrets.token_hex(8)


class RequestIds:
    """Pure ASGI middleware (no body buffering, works with streaming responses)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", []) if h[0].lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, rid.encode())]}
            await send(message)

        token = audit_context.begin_request(rid)
        try:
            with log_context(request_id=rid):
                await self.app(scope, receive, send_with_id)
        finally:
            audit_context.end_request(token)


__all__ = ["HEADER", "RequestIds", "request_id"]
