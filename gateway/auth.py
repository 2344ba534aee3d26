"""API keys and roles: who may call what.

A key travels in ``X-API-Key`` or ``Authorization: Bearer`` (or, for reads and the
dashboard only, sealed in the dashboard's session cookie: ``gateway.sessions``). Four roles:
``client`` (mutating transfer calls), ``admin`` (chains, routes, keys, the
operator tools; also allowed what a client may do), ``notary`` (the notary
endpoints only), ``supervisor`` (reads everything, the audit log included, and
may pause and resume a route; nothing else: it creates no transfer and changes
no chain, route or key; ``docs/supervision.md``). Reads need no key unless
``Settings.require_read_key``; the audit log always needs a supervisor or admin
key. A missing or unknown key is 401, a known key of another role 403, both as
problem+json. The authenticated key's name and role are handed to the audit
log (``gateway.audit.context``) for the entries the request writes.

Keys are checked by the store (``verify_api_key``, which compares hashes);
a verified key is remembered for ``CACHE_SECONDS`` under the sha256 of the
token, never the token, so a hot client does not cost a database round trip
per request (a revoked key keeps working for at most that long).
``Settings.dev_api_key`` is accepted as an admin key for ``make run``.

SECURITY: a key is never logged, echoed in a response, or put in an error
message; comparisons with the dev key are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from fastapi import Request

from gateway.audit import context as audit_context
from gateway.problems import Forbidden, Unauthorized
from gateway.sessions import session_of

CACHE_SECONDS = 10.0
CACHE_SIZE = 1024
MAX_KEY_LENGTH = 256


class Role(StrEnum):
    CLIENT = "client"
    ADMIN = "admin"
    NOTARY = "notary"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: Role


class KeyCache:
    """Verified keys by token hash, with a time to live (thread-safe, bounded)."""

    def __init__(self, ttl: float = CACHE_SECONDS, size: int = CACHE_SIZE) -> None:
        self.ttl = ttl
        self.size = size
        self._items: OrderedDict[bytes, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: bytes, now: float) -> Principal | None:
        with self._lock:
            item = self._items.get(digest)
            if item is None or item[1] < now:
                return None
            return item[0]

    def put(self, digest: bytes, principal: Principal, now: float) -> None:
        with self._lock:
            self._items[digest] = (principal, now + self.ttl)
            self._items.move_to_end(digest)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def presented_key(request: Request) -> str | None:
    """The token of ``X-API-Key`` or ``Authorization: Bearer``; None when absent."""
    key = request.headers.get("x-api-key")
    if key is None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            key = token.strip()
    if key is not None and (not key or len(key) > MAX_KEY_LENGTH):
        raise Unauthorized("the API key is malformed")
    return key


def authenticate(request: Request, *, session: bool = False) -> Principal | None:
    """The caller, or None when no key was presented; ``Unauthorized`` for an unknown key.
    The caller is named to the audit log for the rest of the request.

    ``session``: a request without a key header may present the dashboard's session
    cookie instead. Only reads and the dashboard pass it (a cookie rides along on any
    request the browser makes, so it must never authorize an API write).
    """
    principal = _authenticate(request, session=session)
    if principal is not None:
        audit_context.set_actor(principal.name, str(principal.role))
    return principal


def _authenticate(request: Request, *, session: bool) -> Principal | None:
    key = presented_key(request)
    if key is None and session:
        opened = session_of(request)
        key = None if opened is None else opened.key
    if key is None:
        return None
    return principal_of(request, key)


def principal_of(request: Request, key: str) -> Principal:
    """Who ``key`` is (the dev key, the cache, then the store); ``Unauthorized`` if nobody."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise Unauthorized("the API key is malformed")
    state = request.app.state
    dev = state.settings.dev_api_key
    if dev is not None and hmac.compare_digest(key.encode(), dev.get_secret_value().encode()):
        return Principal("dev", Role.ADMIN)
    digest = hashlib.sha256(key.encode()).digest()
    cache: KeyCache = state.key_cache
    now = time.monotonic()
    found = cache.get(digest, now)
    if found is not None:
        return found
    store = state.get_store()
    verify = getattr(store, "verify_api_key", None)
    answer = verify(key) if verify is not None else None
    if answer is None:
        raise Unauthorized("the API key is not valid")
    name, role = answer
    try:
        principal = Principal(name, Role(role))
    except ValueError:
        raise Unauthorized("the API key has no known role") from None
    cache.put(digest, principal, now)
    return principal


def require(*roles: Role) -> Callable[[Request], Principal]:
    """A dependency that admits only keys of ``roles`` (401 without a key, 403 otherwise)."""
    allowed = frozenset(roles)

    def dependency(request: Request) -> Principal:
        principal = authenticate(request)
        if principal is None:
            raise Unauthorized("this endpoint needs an API key (X-API-Key)")
        if principal.role not in allowed:
            raise Forbidden(
                f"a {principal.role} key may not call this endpoint "
                f"(needs {' or '.join(sorted(allowed))})"
            )
        return principal

    return dependency


def read_access(request: Request) -> Principal | None:
    """Reads are open unless ``require_read_key``; then any known key will do."""
    if not request.app.state.settings.require_read_key:
        return None
    principal = authenticate(request, session=True)
    if principal is None:
        raise Unauthorized("this hub requires an API key for reads (X-API-Key)")
    return principal


client_access = require(Role.CLIENT, Role.ADMIN)
admin_access = require(Role.ADMIN)
notary_access = require(Role.NOTARY)
supervisor_access = require(Role.SUPERVISOR, Role.ADMIN)
"""Reading the audit log, pausing and resuming routes: a supervisor, or an admin."""

__all__ = [
    "KeyCache",
    "Principal",
    "Role",
    "admin_access",
    "authenticate",
    "client_access",
    "notary_access",
    "principal_of",
    "read_access",
    "require",
    "supervisor_access",
]
