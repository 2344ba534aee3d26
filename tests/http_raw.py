"""HTTP/1.1 over a bare socket, for requests no well-behaved client library would send.

httpx refuses (or fixes) what the hostile-input tests need: a 100,000-character
target, a header of 100 KB, a ``Content-Length`` of 64 MiB with no body behind
it, a head or a body trickled a byte at a time. ``exchange`` sends raw bytes and
parses whatever answer comes back; ``Answer.status`` is None when the server
closed the connection without answering.
"""

from __future__ import annotations

import http.client
import json
import select
import socket
from dataclasses import dataclass, field

from tests.net import LOOPBACK


@dataclass
class Answer:
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def problem(self) -> dict[str, object]:
        assert self.headers.get("content-type") == "application/problem+json", self.headers
        return json.loads(self.body)  # type: ignore[no-any-return]


def head(method: str, target: str, headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: test", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_answer(sock: socket.socket) -> Answer:
    response = http.client.HTTPResponse(sock)
    try:
        response.begin()
    except (http.client.RemoteDisconnected, ConnectionResetError):
        return Answer(None)
    headers = {k.lower(): v for k, v in response.getheaders()}
    try:
        body = response.read()
    except (http.client.IncompleteRead, ConnectionResetError) as err:
        body = getattr(err, "partial", b"")
    return Answer(response.status, headers, body)


def exchange(port: int, request_head: bytes, body: bytes = b"", timeout: float = 60.0) -> Answer:
    """Send a request; stop sending the body as soon as the server has answered."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout) as sock:
        sock.sendall(request_head)
        step = 16 * 1024
        for start in range(0, len(body), step):
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(body[start : start + step])
            except (BrokenPipeError, ConnectionResetError):
                break
        return read_answer(sock)
