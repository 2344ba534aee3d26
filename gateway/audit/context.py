"""Who is acting: the caller every audit entry written meanwhile names.

The API's request-id middleware opens a :class:`Caller` per request (the request
id known, the actor not yet); authentication fills in the key's name and role
(``gateway.auth.authenticate``). The holder is a mutable object in a
``ContextVar``, because FastAPI runs the auth dependency and the endpoint in
separate worker threads, each with a *copy* of the request's context: the copies
share the object, so the endpoint's store calls see who authenticated. Outside
a request (the relayer, a CLI), the actor is the process's (:data:`SYSTEM`, or
:func:`acting_as`). Why a context and not a parameter: the store seam
(``core.seams.Store``) is shared by the relayer and other helpers' code, and the
actor is ambient to every write a request makes, as a log context is.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from dataclasses import dataclass

SYSTEM_ROLE = "system"


@dataclass(slots=True)
class Caller:
    """The acting key (``actor``: its name, ``role``) and the request id ("" outside one)."""

    actor: str
    role: str
    request_id: str = ""


SYSTEM = Caller("hub", SYSTEM_ROLE)
_CURRENT: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "pjgw_audit_caller", default=None
)


def current() -> Caller:
    """The caller of this context (a copy: the entry must not change after it is staged)."""
    found = _CURRENT.get()
    base = found if found is not None else SYSTEM
    return Caller(base.actor, base.role, base.request_id)


def begin_request(request_id: str) -> contextvars.Token[Caller | None]:
    """Open the request's holder (anonymous until a key is checked)."""
    return _CURRENT.set(Caller("anonymous", "anonymous", request_id))


def end_request(token: contextvars.Token[Caller | None]) -> None:
    _CURRENT.reset(token)


def set_actor(name: str, role: str) -> None:
    """Name the authenticated key in the current request's holder (no-op outside one)."""
    found = _CURRENT.get()
    if found is not None:
        found.actor, found.role = name, role


@contextlib.contextmanager
def acting_as(name: str, role: str, request_id: str = "") -> Iterator[Caller]:
    """Write entries as ``name`` (a CLI operator, a process) inside the block."""
    caller = Caller(name, role, request_id)
    token = _CURRENT.set(caller)
    try:
        yield caller
    finally:
        _CURRENT.reset(token)


__all__ = ["SYSTEM", "SYSTEM_ROLE", "Caller", "acting_as", "begin_request", "current", "set_actor"]
