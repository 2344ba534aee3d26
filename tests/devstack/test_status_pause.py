"""``pjgw status`` says when a transfer's route is paused, and why (an operator's pause or a
circuit breaker's): ``devtools.tour.route_pause_line`` over the hub's ``GET /v1/routes``."""

from __future__ import annotations

import httpx
import pytest

from devtools.tour import route_pause_line

ROUTES = [
    {"route_id": "pj-evm", "paused_reason": "breaker conservation: deficit 700"},
    {"route_id": "evm-pj", "paused_reason": None},
]


def _client(status: int, body: object) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/routes"
        return httpx.Response(status, json=body)

    return httpx.Client(transport=httpx.MockTransport(answer), base_url="http://hub")


def test_a_paused_route_is_named_with_its_reason() -> None:
    line = route_pause_line(_client(200, ROUTES), "pj-evm")
    assert "route pj-evm is paused" in line
    assert "breaker conservation: deficit 700" in line


@pytest.mark.parametrize(
    ("status", "body", "route"),
    [(200, ROUTES, "evm-pj"), (200, ROUTES, "unknown"), (403, {"code": "forbidden"}, "pj-evm")],
    ids=["running route", "route not listed", "hub refuses"],
)
def test_no_line_when_the_route_runs_or_the_hub_cannot_say(
    status: int, body: object, route: str
) -> None:
    assert route_pause_line(_client(status, body), route) == ""
