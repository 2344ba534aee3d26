"""Hostile input against every HTTP server of the project, each a real process.

The hub (``pjgw serve``) and the devnet node (``python -m devnet run``) are
started once per module; every hostile request goes to each, with and without
an API key, and must be answered with a 4xx while the process keeps answering
``/healthz``. The first case killed both processes with SIGSEGV before
``core.runtime.bound_recursion`` and ``core.http_limits``. The slow-client test
trickles heads and bodies a byte at a time on a bounded number of connections
while other requests keep being answered.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.fixtures.tiers import starts
from tests.http_raw import Answer, exchange, head, read_answer
from tests.net import LOOPBACK, free_port
from tests.proofs.test_rlp_bounds import nested_lists

REPO = Path(__file__).resolve().parents[2]
PJGW = str(Path(sys.executable).parent / "pjgw")
DEADLINE = "2"
"""Seconds the servers under test give a request head, then its body (short, to keep the run
short; the defaults are 10 s)."""
KEY = "hostile-test-admin-key"


@dataclass
class Server:
    name: str
    port: int
    post_path: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def assert_alive(self) -> None:
        assert self.process.poll() is None, f"{self.name} died: {self.log.read_text()[-3000:]}"
        assert httpx.get(self.url + "/healthz", timeout=30).status_code == 200


def _start(name: str, tmp: Path, **extra_env: str) -> Server:
    port = free_port()
    log = tmp / f"{name}.log"
    env = dict(os.environ) | extra_env
    if name == "hub":
        argv = [PJGW, "serve", "--no-relay", "--port", str(port)]
        env |= {
            "PJGW_DATA_DIR": str(tmp / "hub"),
            "PJGW_DEV_API_KEY": KEY,
            "PJGW_REQUEST_BODY_SECONDS": DEADLINE,
            "PJGW_REQUEST_HEAD_SECONDS": DEADLINE,
            "PJGW_LOG_LEVEL": "warning",
        }
        post_path = "/v1/transfers"
    else:
        argv = [sys.executable, "-m", "devnet", "run", "--data", str(tmp / "devnet")]
        argv += ["--port", str(port), "--block-time", "1s", "--request-timeout", f"{DEADLINE}s"]
        post_path = "/v1/txs"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(name, port, post_path, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"{name} exited: {log.read_text()[-3000:]}"
        try:
            if httpx.get(server.url + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{name} not ready in 60 s: {log.read_text()[-3000:]}")


@pytest.fixture(scope="module", params=["hub", "devnet"])
@starts("chain", "stack")
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:  # type: ignore[type-arg]
    started = _start(request.param, tmp_path_factory.mktemp(request.param))
    yield started
    if started.process.poll() is None:  # our own pid only
        os.kill(started.process.pid, signal.SIGTERM)
        try:
            started.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(started.process.pid, signal.SIGKILL)
            started.process.wait(timeout=30)


def _keys(keyed: bool) -> dict[str, str]:
    return {"X-API-Key": KEY} if keyed else {}


def _post(server: Server, body: bytes, keyed: bool) -> Answer:
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    headers |= {"Idempotency-Key": "hostile"} | _keys(keyed)
    return exchange(server.port, head("POST", server.post_path, headers), body)


BODIES: dict[str, tuple[Callable[[], bytes], int | None, str | None]] = {
    # name: (body, expected status or None for any 4xx, expected problem code); built per test
    "100k nested arrays": (lambda: b"[" * 100_000 + b"]" * 100_000, 422, "too-complex"),
    "40k nested objects": (lambda: b'{"a":' * 40_000 + b"1" + b"}" * 40_000, 422, "too-complex"),
    "64 MiB string": (lambda: b'{"tx": "' + b"a" * (64 << 20) + b'"}', 413, "too-large"),
    "200k-digit number": (lambda: b'{"tx": ' + b"7" * 200_000 + b"}", 422, "too-complex"),
    "invalid UTF-8": (lambda: b'{"tx": "\xff\xfe\xfd", "route_id": "\xc3\x28"}', None, None),
    # 3.3 MB: over the hub's bound (413), within the devnet's 4 MiB batch bound (422)
    "300k keys": (
        lambda: b"{" + b",".join(b'"k%d":0' % i for i in range(300_000)) + b"}",
        None,
        None,
    ),
    "20k keys": (lambda: b"{" + b",".join(b'"k%d":0' % i for i in range(20_000)) + b"}", 422, None),
    # a transaction of 20,000 nested RLP lists (60 KB): the devnet decodes it (it answered 500)
    "20k-deep RLP tx": (
        lambda: b'{"tx": "0x%s"}' % nested_lists(20_000).hex().encode(),
        None,
        None,
    ),
}


@pytest.mark.parametrize("keyed", [False, True], ids=["no key", "key"])
@pytest.mark.parametrize("case", list(BODIES))
def test_hostile_body_is_a_4xx_and_the_server_lives(server: Server, case: str, keyed: bool) -> None:
    make, status, code = BODIES[case]
    answer = _post(server, make(), keyed)
    assert answer.status is not None, "closed without an answer"
    assert 400 <= answer.status < 500, (answer.status, answer.body[:300])
    if status is not None:
        assert answer.status == status, answer.body[:300]
        problem = answer.problem()
        assert problem["status"] == status
        assert problem["type"] == f"https://pujiang.dev/problems/{problem['code']}"
        if code is not None:
            assert problem["code"] == code
    server.assert_alive()


def _target_cases() -> dict[str, tuple[str, dict[str, str], int | None, str | None]]:
    return {
        "100k-char path": ("/v1/transfers/" + "a" * 100_000, {}, None, None),
        "100k-char query": ("/healthz?q=" + "a" * 100_000, {}, None, None),
        "10k-char path": ("/v1/transfers/" + "a" * 10_000, {}, 414, "uri-too-long"),
        "100 KB header": ("/healthz", {"X-Big": "b" * 100_000}, None, None),
        "20 KB header": ("/healthz", {"X-Big": "b" * 20_000}, 431, "headers-too-large"),
        "200 headers": ("/healthz", {f"X-H{i}": "v" for i in range(200)}, 431, None),
    }


@pytest.mark.parametrize("keyed", [False, True], ids=["no key", "key"])
@pytest.mark.parametrize("case", list(_target_cases()))
def test_hostile_target_or_headers_are_a_4xx_and_the_server_lives(
    server: Server, case: str, keyed: bool
) -> None:
    target, headers, status, code = _target_cases()[case]
    answer = exchange(server.port, head("GET", target, headers | _keys(keyed)))
    assert answer.status is not None, "closed without an answer"
    assert 400 <= answer.status < 500, (answer.status, answer.body[:300])
    if status is not None:
        assert answer.status == status
        problem = answer.problem()
        if code is not None:
            assert problem["code"] == code
    server.assert_alive()


SLOW_CLIENTS = 12
"""Per kind (head, body): 24 connections trickling a byte every 0.3 s."""


def _trickle(port: int, prefix: bytes, trickled: bytes, outcomes: list[Answer]) -> None:
    """Send ``prefix`` at once, then ``trickled`` a byte at a time until the server answers."""
    with socket.create_connection((LOOPBACK, port), timeout=120) as sock:
        sock.sendall(prefix)
        for byte in trickled:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.3)
            if _readable(sock):
                break
        outcomes.append(read_answer(sock))


def _readable(sock: socket.socket) -> bool:
    import select

    readable, _, _ = select.select([sock], [], [], 0)
    return bool(readable)


def test_slow_clients_are_cut_off_while_others_are_served(server: Server) -> None:
    heads: list[Answer] = []
    bodies: list[Answer] = []
    slow_head = head("GET", "/healthz", {"X-Pad": "p" * 400})
    body_head = head(
        "POST",
        server.post_path,
        {"Content-Type": "application/json", "Content-Length": "400", "X-API-Key": KEY},
    )
    threads = [
        threading.Thread(target=_trickle, args=(server.port, b"", slow_head, heads))
        for _ in range(SLOW_CLIENTS)
    ] + [
        threading.Thread(target=_trickle, args=(server.port, body_head, b"[" * 400, bodies))
        for _ in range(SLOW_CLIENTS)
    ]
    for thread in threads:
        thread.start()
    served = 0
    while any(thread.is_alive() for thread in threads):
        server.assert_alive()  # answered while the slow connections are held
        served += 1
        time.sleep(0.2)
    for thread in threads:
        thread.join(timeout=120)
    assert served >= 1
    # Every trickled head and body was cut off by a 408 problem, well before its 400 bytes.
    assert [a.status for a in heads] == [408] * SLOW_CLIENTS
    assert [a.status for a in bodies] == [408] * SLOW_CLIENTS
    assert {a.problem()["code"] for a in heads + bodies} == {"request-timeout"}
    server.assert_alive()


@pytest.mark.stack
def test_one_address_cannot_take_every_connection(tmp_path: Path) -> None:
    """Beyond ``PJGW_MAX_CONNECTIONS_PER_ADDRESS`` idle connections from one address the next
    is refused (429); once the idle ones are cut at the head deadline, requests are served."""
    hub = _start("hub", tmp_path, PJGW_MAX_CONNECTIONS_PER_ADDRESS="3")
    try:
        idle = [socket.create_connection((LOOPBACK, hub.port), timeout=60) for _ in range(3)]
        try:
            refused = exchange(hub.port, head("GET", "/healthz"))
            assert refused.status == 429
            assert refused.problem()["code"] == "rate-limited"
            for sock in idle:  # each cut by the head deadline, with a 408
                assert read_answer(sock).status == 408
        finally:
            for sock in idle:
                sock.close()
        hub.assert_alive()
    finally:
        os.kill(hub.process.pid, signal.SIGTERM)
        hub.process.wait(timeout=30)
