"""A real HTTP proxy in front of a chain node that fails or delays a share of the calls.

The fault tests put one in front of the devnet node and one in front of
anvil, and give the hub's processes the proxies' URLs. For each request the
proxy draws, with its own seeded ``random.Random``:

* ``refuse`` (HTTP 502 before anything reaches the node: the call was not made),
* ``drop`` (the call IS forwarded and executed, then the connection is cut in
  the middle of the answer: the client cannot know whether it happened),
* ``delay`` (a pause of ``delay`` seconds, then forwarded normally),
* otherwise forwarded untouched,

so that ``fault_rate`` of the calls are faulty. ``retarget`` points it at
another node (a restarted node on a new port keeps the proxy's URL).

It is a Starlette app served by uvicorn in a thread, forwarding with httpx:
no library proxies arbitrary HTTP and cuts a connection on purpose, so the
forwarding itself (method, path, query, body, content type) is written here.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.net import LOOPBACK, free_port


class ProxyCut(Exception):
    """Raised inside a streamed answer so uvicorn closes the connection half-way."""


@dataclass
class FaultPlan:
    """How often the proxy fails a call, and how."""

    fault_rate: float = 0.3
    delay: tuple[float, float] = (0.05, 0.8)
    kinds: tuple[str, ...] = ("refuse", "drop", "delay")
    seed: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def draw(self) -> str:
        if self.rng.random() >= self.fault_rate:
            return "pass"
        return self.rng.choice(self.kinds)


class FaultyProxy:
    """One proxy on a free loopback port; a context manager that stops its thread."""

    def __init__(self, target: str, plan: FaultPlan | None = None) -> None:
        self.target = target.rstrip("/")
        self.plan = plan or FaultPlan(fault_rate=0.0)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        app = Starlette(
            routes=[Route("/{path:path}", self._handle, methods=["GET", "POST", "PUT", "DELETE"])],
            lifespan=self._lifespan,
        )
        config = uvicorn.Config(app, host=LOOPBACK, port=self.port, log_level="critical")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="rpc-proxy", daemon=True)
        self._client: httpx.AsyncClient | None = None

    def retarget(self, target: str) -> None:
        self.target = target.rstrip("/")

    def set_fault_rate(self, rate: float) -> None:
        with self._lock:
            self.plan.fault_rate = rate

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the proxy did not start on port {self.port}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- the proxy itself -------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        yield
        if self._client is not None:
            await self._client.aclose()

    async def _forward(self, request: Request) -> httpx.Response:
        if self._client is None:  # made on the server's own loop
            self._client = httpx.AsyncClient(timeout=30)
        url = self.target + request.url.path
        if request.url.query:
            url += "?" + request.url.query
        headers = {}
        if "content-type" in request.headers:
            headers["content-type"] = request.headers["content-type"]
        return await self._client.request(
            request.method, url, content=await request.body(), headers=headers
        )

    async def _handle(self, request: Request) -> Response:
        with self._lock:
            kind = self.plan.draw()
            pause = self.plan.rng.uniform(*self.plan.delay)
            self.counts[kind] += 1
        if kind == "refuse":
            return Response(b"proxy: refused", status_code=502)
        if kind == "delay":
            await asyncio.sleep(pause)
        try:
            answer = await self._forward(request)
        except httpx.HTTPError as err:  # the node is down: what a load balancer answers
            with self._lock:
                self.counts["node-down"] += 1
            return Response(f"proxy: {type(err).__name__}".encode(), status_code=502)
        content_type = answer.headers.get("content-type", "application/json")
        if kind == "drop":
            body = answer.content

            async def cut() -> AsyncIterator[bytes]:
                yield body[: len(body) // 2]
                raise ProxyCut("connection cut by the fault proxy")

            return StreamingResponse(
                cut(),
                status_code=answer.status_code,
                media_type=content_type,
                headers={"content-length": str(len(body))},
            )
        return Response(answer.content, status_code=answer.status_code, media_type=content_type)
