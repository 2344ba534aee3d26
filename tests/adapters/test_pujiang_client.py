"""adapters.pujiang.client: retries, backoff and error translation at the HTTP boundary.

The node is replaced by ``httpx.MockTransport`` — a mock of the node's
*transport*, not of the adapter — so every request goes through the real
``httpx.AsyncClient`` and the real translation code; only the answers are scripted.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from adapters.pujiang.client import NodeClient, redact_url
from adapters.pujiang.settings import PujiangSettings
from core.errors import (
    ChainError,
    ChainRejected,
    ChainUnavailable,
    ConfigError,
    InvalidInput,
    NotFound,
)

Handler = Callable[[httpx.Request], httpx.Response]
TX = bytes.fromhex("c0ffee") * 10
TX_HASH = bytes(range(32))


def settings(**overrides: Any) -> PujiangSettings:
    base: dict[str, Any] = {"url": "http://node.test", "chain_id": "pj-test", "retry_attempts": 3}
    return PujiangSettings(**(base | overrides))


class MockNodeTransport:
    """A scripted stand-in for the node's transport: answers in order, records every request."""

    def __init__(self, *answers: httpx.Response | Exception | Handler) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def problem(status: int, detail: str, code: str = "invalid-input") -> httpx.Response:
    body = {"type": f"https://pujiang.dev/problems/{code}", "status": status, "detail": detail}
    return httpx.Response(status, json=body | {"code": code})


def run_client(
    mock: MockNodeTransport,
    call: Callable[[NodeClient], Any],
    **overrides: Any,
) -> tuple[Any, list[float]]:
    """Run ``call`` on a client over ``mock``; return its result and the backoff sleeps."""
    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    async def go() -> Any:
        client = NodeClient(
            settings(**overrides), transport=mock.transport, sleep=sleep, rng=lambda: 0.0
        )
        async with client:
            return await call(client)

    return asyncio.run(go()), sleeps


def get_status(client: NodeClient) -> Any:
    return client.get("/v1/status")


# --- reads: retried ----------------------------------------------------------------------


def test_get_retries_a_5xx_with_growing_delays_then_returns_the_answer() -> None:
    mock = MockNodeTransport(
        httpx.Response(503), httpx.Response(502), httpx.Response(200, json={"ok": 1})
    )
    answer, sleeps = run_client(mock, get_status, retry_backoff=0.2)
    assert answer == {"ok": 1}
    assert len(mock.requests) == 3
    assert sleeps == [pytest.approx(0.1), pytest.approx(0.2)]  # half of 0.2, 0.4 (rng = 0)


def test_get_gives_up_after_the_configured_attempts_with_chain_unavailable() -> None:
    mock = MockNodeTransport(httpx.Response(500))
    with pytest.raises(ChainUnavailable, match="HTTP 500") as caught:
        run_client(mock, get_status, retry_attempts=4)
    assert len(mock.requests) == 4
    assert caught.value.retryable


def test_connection_error_becomes_chain_unavailable_raised_from_the_httpx_error() -> None:
    refused = httpx.ConnectError("connection refused")
    mock = MockNodeTransport(refused)
    with pytest.raises(ChainUnavailable, match="ConnectError") as caught:
        run_client(mock, get_status, retry_attempts=2)
    assert caught.value.__cause__ is refused
    assert len(mock.requests) == 2


def test_timeout_becomes_chain_unavailable_and_is_retried() -> None:
    mock = MockNodeTransport(httpx.ReadTimeout("slow"), httpx.Response(200, json={"ok": 2}))
    answer, sleeps = run_client(mock, get_status)
    assert answer == {"ok": 2}
    assert len(sleeps) == 1


def test_every_request_carries_the_configured_timeouts() -> None:
    mock = MockNodeTransport(httpx.Response(200, json={}))
    run_client(mock, get_status, timeout=7.5, connect_timeout=1.5)
    timeouts = mock.requests[0].extensions["timeout"]
    assert timeouts == {"connect": 1.5, "read": 7.5, "write": 7.5, "pool": 7.5}


def test_non_json_answer_is_unavailable_and_retried() -> None:
    mock = MockNodeTransport(
        httpx.Response(200, text="<html>proxy</html>"), httpx.Response(200, json={"ok": 3})
    )
    answer, _ = run_client(mock, get_status)
    assert answer == {"ok": 3}


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (problem(404, "no block 99 yet", "not-found"), NotFound),
        (problem(422, "to - from must be at most 1000"), InvalidInput),
        (problem(400, "bad hex"), InvalidInput),
        (httpx.Response(401, text="no"), ChainError),
        (httpx.Response(403), ChainError),
    ],
)
def test_4xx_on_a_read_is_translated_and_never_retried(
    response: httpx.Response, error: type[Exception]
) -> None:
    mock = MockNodeTransport(response)
    with pytest.raises(error) as caught:
        run_client(mock, get_status)
    assert type(caught.value) is error
    assert len(mock.requests) == 1
    assert not caught.value.retryable  # type: ignore[attr-defined]


def test_node_problem_detail_is_kept_in_the_error() -> None:
    mock = MockNodeTransport(problem(422, "to - from must be at most 1000"))
    with pytest.raises(InvalidInput, match="at most 1000") as caught:
        run_client(mock, get_status)
    assert caught.value.details["node_code"] == "invalid-input"


def test_json_that_is_not_an_object_is_a_chain_error() -> None:
    mock = MockNodeTransport(httpx.Response(200, json=[1, 2]))
    with pytest.raises(ChainError, match="not a JSON object"):
        run_client(mock, get_status)


# --- backoff -----------------------------------------------------------------------------


def test_backoff_is_exponential_capped_and_jittered_within_half_to_full_step() -> None:
    low = NodeClient(settings(retry_backoff=0.5, retry_backoff_max=3.0), rng=lambda: 0.0)
    high = NodeClient(settings(retry_backoff=0.5, retry_backoff_max=3.0), rng=lambda: 0.999)
    steps = [0.5, 1.0, 2.0, 3.0, 3.0]
    for attempt, step in enumerate(steps, start=1):
        assert low.backoff(attempt) == pytest.approx(step / 2)
        assert step / 2 <= high.backoff(attempt) <= step


def test_retry_after_raises_the_delay_up_to_the_cap() -> None:
    client = NodeClient(settings(retry_backoff=0.1, retry_backoff_max=2.0), rng=lambda: 0.0)
    assert client.backoff(1, 1.5) == 1.5
    assert client.backoff(1, 60.0) == 2.0


def test_429_with_retry_after_is_retried_after_that_delay() -> None:
    mock = MockNodeTransport(
        httpx.Response(429, headers={"retry-after": "1"}), httpx.Response(200, json={})
    )
    _, sleeps = run_client(mock, get_status, retry_backoff=0.1)
    assert sleeps == [1.0]


# --- writes: only identical bytes are re-posted -------------------------------------------


def post(client: NodeClient) -> Any:
    return client.post_tx(TX, TX_HASH)


def accepted(request: httpx.Request) -> httpx.Response:
    return httpx.Response(202, json={"tx_hash": "0x" + TX_HASH.hex()})


def test_tx_post_after_a_5xx_resends_the_identical_bytes() -> None:
    mock = MockNodeTransport(httpx.Response(503), httpx.ConnectError("reset"), accepted)
    answer, _ = run_client(mock, post)
    assert answer == {"tx_hash": "0x" + TX_HASH.hex()}
    bodies = [json.loads(r.content) for r in mock.requests]
    assert bodies == [{"tx": "0x" + TX.hex()}] * 3


def test_tx_refusal_of_an_unknown_tx_is_chain_rejected_with_the_node_reason() -> None:
    mock = MockNodeTransport(
        problem(422, "wrong-nonce: expected 4, got 9", "conflict"),
        problem(404, "unknown tx", "not-found"),
    )
    with pytest.raises(ChainRejected, match="wrong-nonce") as caught:
        run_client(mock, post)
    assert caught.value.details["reason"] == "wrong-nonce: expected 4, got 9"
    assert [r.method for r in mock.requests] == ["POST", "GET"]
    assert mock.requests[1].url.path == f"/v1/txs/0x{TX_HASH.hex()}"


def test_tx_refused_because_already_known_counts_as_submitted() -> None:
    """A replayed post (a timeout that had landed, a restarted relayer) is not an error."""
    known = httpx.Response(200, json={"tx_hash": "0x" + TX_HASH.hex(), "status": "committed"})
    mock = MockNodeTransport(problem(409, "wrong-nonce: already used", "conflict"), known)
    answer, _ = run_client(mock, post)
    assert answer == {"tx_hash": "0x" + TX_HASH.hex()}


def test_a_non_idempotent_post_is_never_retried() -> None:
    mock = MockNodeTransport(httpx.Response(503))
    with pytest.raises(ChainUnavailable):
        run_client(mock, lambda c: c.post_once("/v1/blocks"))
    assert len(mock.requests) == 1


# --- settings ----------------------------------------------------------------------------

SEED = "11" * 32


def test_relayer_key_never_shows_in_repr_or_errors() -> None:
    good = settings(insecure_plaintext_key=True, relayer_key=SEED)
    assert SEED not in repr(good)
    assert SEED not in str(good.model_dump())
    with pytest.raises(ConfigError) as caught:
        PujiangSettings.from_options(
            {
                "url": "ftp://x",
                "chain_id": "pj",
                "insecure_plaintext_key": True,
                "relayer_key": SEED[:-2] + "zz",
            }
        )
    text = str(caught.value)
    assert "url" in text
    assert "relayer_key" in text
    assert SEED[:-2] not in text
    assert caught.value.__cause__ is None  # the pydantic error (with the inputs) is not chained


@pytest.mark.parametrize(
    "bad",
    [
        {"range_size": 1001},
        {"range_size": 0},
        {"timeout": 0},
        {"retry_attempts": 0},
        {"chain_id": "Upper Case"},
        {"hash_profile": "md5"},
        {"unknown_option": 1},
    ],
)
def test_out_of_bounds_options_are_config_errors(bad: dict[str, Any]) -> None:
    options = {"url": "http://node.test", "chain_id": "pj-test"} | bad
    with pytest.raises(ConfigError, match=next(iter(bad))):
        PujiangSettings.from_options(options)


def test_credentials_in_the_url_never_reach_an_error() -> None:
    mock = MockNodeTransport(httpx.Response(502))
    with pytest.raises(ChainUnavailable) as caught:
        run_client(mock, get_status, url="https://relayer:s3cret@node.test/api", retry_attempts=1)
    assert "s3cret" not in str(caught.value)
    assert caught.value.details["url"] == "https://***@node.test/api"
    assert redact_url("http://node.test/a@b") == "http://node.test/a@b"


def test_trailing_slash_of_the_url_is_dropped() -> None:
    assert settings(url="http://node.test:26650/").url == "http://node.test:26650"
