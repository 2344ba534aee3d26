"""Connection-level bounds of the project's uvicorn servers, in one place for both.

``core.http_limits`` bounds a request once uvicorn hands it to the app; what
happens before that is uvicorn's: how many connections it serves
(``limit_concurrency``, beyond which it answers 503), how large a request head
may grow (``h11_max_incomplete_event_size``, beyond which h11 answers 400 and
closes), how long an idle keep-alive connection stays open. One gap remains
there: uvicorn waits for a request head without a deadline, and any byte
resets its keep-alive timer, so a client sending its headers a byte a second
holds a connection (and a ``limit_concurrency`` slot) forever. ``HeadDeadline``
closes such a connection after ``head_seconds`` with a 408 problem, and refuses
a connection beyond ``max_per_address`` open from one client address (429
``rate-limited``), so one client cannot take every ``limit_concurrency`` slot.

core imports no web library: a server builds its protocol class as
``class Protocol(HeadDeadline, H11Protocol)`` and passes ``uvicorn_options``
to ``uvicorn.Config``. ``HeadDeadline`` relies on four members of uvicorn's
``H11Protocol`` (``client``, ``cycle``, ``transport``, ``loop``) and its hooks
``connection_made``, ``handle_events``, ``on_response_complete`` and
``connection_lost``; ``tests/gateway/test_hostile_input.py`` holds it to them.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

from core.errors import PjgwError, RateLimited, RequestTimeout
from core.problem import PROBLEM_MEDIA_TYPE, problem_document


@dataclass(frozen=True, slots=True)
class ServerLimits:
    """Connection bounds of one server (see the module docstring for what each bounds)."""

    max_connections: int = 512
    max_per_address: int = 128
    head_seconds: float = 10.0
    keep_alive_seconds: int = 5
    head_bytes: int = 32 * 1024

    def uvicorn_options(self, protocol: type[Any]) -> dict[str, object]:
        """Keyword arguments for ``uvicorn.Config``; ``protocol`` mixes in ``HeadDeadline``."""
        if not issubclass(protocol, HeadDeadline):
            raise TypeError("the protocol class must mix in HeadDeadline")
        bounds = {
            "head_seconds": self.head_seconds,
            "max_per_address": self.max_per_address,
            "open_by_address": Counter(),  # this server's own count
        }
        return {
            "http": type(protocol.__name__, (protocol,), bounds),
            "limit_concurrency": self.max_connections,
            "timeout_keep_alive": self.keep_alive_seconds,
            "h11_max_incomplete_event_size": self.head_bytes,
        }


def _raw_answer(error: PjgwError, reason: str, extra: str = "") -> bytes:
    """A whole HTTP/1.1 problem answer, for a connection h11 has no request on yet."""
    body = json.dumps(problem_document(error, "")).encode()
    head = (
        f"HTTP/1.1 {error.http_status} {reason}\r\ncontent-type: {PROBLEM_MEDIA_TYPE}\r\n"
        f"content-length: {len(body)}\r\n{extra}connection: close\r\n\r\n"
    )
    return head.encode() + body


class HeadDeadline:
    """Mixin before uvicorn's ``H11Protocol``: a request head must be complete in time."""

    head_seconds: ClassVar[float] = 10.0
    max_per_address: ClassVar[int] = 128
    open_by_address: ClassVar[Counter[str]] = Counter()
    client: Any
    cycle: Any
    transport: Any
    loop: Any
    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._address = str(self.client[0]) if self.client else ""
        self.open_by_address[self._address] += 1
        if self.open_by_address[self._address] > self.max_per_address:
            error = RateLimited(f"more than {self.max_per_address} connections from one address")
            transport.write(_raw_answer(error, "Too Many Requests", "retry-after: 1\r\n"))
            transport.close()
            return
        self._arm_head_deadline()

    def handle_events(self) -> None:
        waiting = self.cycle
        super().handle_events()  # type: ignore[misc]
        if self.cycle is not waiting:  # a request head arrived
            self._cancel_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        if not self.transport.is_closing() and self.cycle.response_complete:
            self._arm_head_deadline()  # the next request's head, on a kept-alive connection

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_deadline()
        address = getattr(self, "_address", None)
        if address is not None:
            self.open_by_address[address] -= 1
            if self.open_by_address[address] <= 0:
                del self.open_by_address[address]
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm_head_deadline(self) -> None:
        self._cancel_head_deadline()
        waiting = self.cycle
        self._head_timer = self.loop.call_later(self.head_seconds, self._head_expired, waiting)

    def _cancel_head_deadline(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_expired(self, waiting: Any) -> None:
        self._head_timer = None
        if self.cycle is waiting and not self.transport.is_closing():
            error = RequestTimeout(
                f"the request head did not arrive within {self.head_seconds:g} s"
            )
            self.transport.write(_raw_answer(error, "Request Timeout"))
            self.transport.close()


__all__ = ["HeadDeadline", "ServerLimits"]
