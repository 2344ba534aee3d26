"""The hub's bounds on requests and connections, from its settings.

Bodies are bounded per route by what the route's schema can accept: a transfer
carries at most a 128 KiB signed transaction and a 16 KiB payload, both as hex;
chain and route registrations carry opaque settings (up to 1 MiB); everything
else fits in 64 KiB. The JSON shape bounds (32 levels, 10,000 keys,
100-character numbers) are far above what any schema accepts and far below
what could hurt a parser. See ``core.http_limits`` and ``core.http_server``.
"""

from __future__ import annotations

from core.http_limits import InputLimits
from core.http_server import ServerLimits
from gateway.schemas.common import MAX_PAYLOAD_BYTES, MAX_SIGNED_TX_BYTES
from gateway.settings import Settings

DEFAULT_BODY_BYTES = 64 * 1024
TRANSFER_BODY_BYTES = 2 * (MAX_SIGNED_TX_BYTES + MAX_PAYLOAD_BYTES) + 16 * 1024
REGISTRATION_BODY_BYTES = 1024 * 1024


def input_limits(settings: Settings) -> InputLimits:
    return InputLimits(
        body_bytes=DEFAULT_BODY_BYTES,
        route_bodies={
            "POST /v1/transfers": TRANSFER_BODY_BYTES,
            "POST /v1/chains": REGISTRATION_BODY_BYTES,
            "POST /v1/routes": REGISTRATION_BODY_BYTES,
        },
        body_seconds=settings.request_body_seconds,
    )


def server_limits(settings: Settings) -> ServerLimits:
    return ServerLimits(
        max_connections=settings.max_connections,
        max_per_address=settings.max_connections_per_address,
        head_seconds=settings.request_head_seconds,
    )


__all__ = ["input_limits", "server_limits"]
