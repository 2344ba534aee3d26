"""Rate limits per client address and per API key: token buckets in front of the app.

Each request takes a token from its address's bucket and, when it presents a
key, from that key's bucket (by the key's sha256, never the key); an empty
bucket is 429 ``rate-limited`` with ``Retry-After`` (whole seconds until a
token is back), before the body is read or the key is looked up, so a flood
costs the hub a dictionary lookup per request. ``/healthz`` and ``/readyz``
are exempt: orchestrators probe them.

Buckets live in the process (several API processes each allow the full rate)
and at most ``MAX_BUCKETS`` of each kind are kept, least recently used
dropped first (a dropped bucket comes back full, so a client that is not
among the 10,000 most recent gains at most one burst). The client address is
uvicorn's ``scope["client"]``: behind a reverse proxy, uvicorn takes it from
``X-Forwarded-For`` only when the proxy is in ``FORWARDED_ALLOW_IPS``.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from core.http_limits import answer
from gateway.auth import MAX_KEY_LENGTH
from gateway.problems import RateLimited
from gateway.settings import Settings

MAX_BUCKETS = 10_000
EXEMPT_PATHS = frozenset({"/healthz", "/readyz"})


@dataclass(slots=True)
class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` a second."""

    rate: float
    burst: float
    tokens: float
    stamp: float

    def take(self, now: float) -> float:
        """0 when a token was taken, else the seconds until one will be there."""
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class Buckets:
    """Token buckets by key, at most ``size`` of them; ``rate`` 0 admits everything."""

    def __init__(self, rate: float, burst: int, size: int = MAX_BUCKETS) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.size = size
        self._buckets: OrderedDict[bytes | str, TokenBucket] = OrderedDict()

    def take(self, key: bytes | str, now: float) -> float:
        if self.rate <= 0:
            return 0.0
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self.rate, self.burst, self.burst, now)
            while len(self._buckets) > self.size:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(now)


def key_digest(scope: Scope) -> bytes | None:
    """sha256 of the ``X-API-Key`` or bearer token of a request, None without one."""
    token = None
    for name, value in scope.get("headers") or []:
        if name == b"x-api-key":
            token = value
            break
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            token = value[7:].strip()
    if not token or len(token) > MAX_KEY_LENGTH:
        return None  # malformed: auth refuses it; the address bucket still counts it
    return hashlib.sha256(token).digest()


class RateLimits:
    """ASGI middleware: a token from the address's bucket, then from the key's, or 429."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.by_address = Buckets(settings.rate_per_address, settings.burst_per_address)
        self.by_key = Buckets(settings.rate_per_key, settings.burst_per_key)
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("path") not in EXEMPT_PATHS:
            now = self.clock()
            client = scope.get("client")
            wait = self.by_address.take(client[0] if client else "", now)
            digest = key_digest(scope) if not wait else None
            if digest is not None:
                wait = self.by_key.take(digest, now)
            if wait:
                seconds = max(1, math.ceil(wait))
                error = RateLimited(f"too many requests; retry in {seconds} s")
                await answer(send, error, scope, headers=[(b"retry-after", b"%d" % seconds)])
                return
        await self.app(scope, receive, send)


__all__ = ["Buckets", "RateLimits", "TokenBucket", "key_digest"]
