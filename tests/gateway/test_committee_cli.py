"""``pjgw committee``: the commands call the hub's API with the admin key of
``PJGW_API_KEY`` (here the app over a TestClient, in place of the network) and print its
answer; a dry run prints the plan and stores nothing, a request is stored."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gateway.cli import app as cli
from gateway.store import SqlStore
from tests.gateway.helpers import EVM, ROUTE, Keys
from tests.gateway.test_committee_api import NEW, ChainStandIn

API = "http://hub.test"


@pytest.fixture
def through_app(
    app: FastAPI, chains: None, keys: Keys, monkeypatch: pytest.MonkeyPatch
) -> TestClient:
    app.state.adapters = {EVM: ChainStandIn()}
    client = TestClient(app)

    def request(method: str, url: str, **kwargs: Any) -> httpx.Response:
        kwargs.pop("timeout", None)
        return client.request(method, url.removeprefix(API), **kwargs)

    monkeypatch.setattr(httpx, "request", request)
    monkeypatch.setenv("PJGW_API_KEY", keys.admin)
    return client


def _run(*args: str) -> Any:
    result = CliRunner().invoke(cli, ["committee", *args, "--api", API])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_rotate_dry_run_prints_the_plan_and_stores_nothing(
    through_app: TestClient, store: SqlStore
) -> None:
    members = ",".join(NEW)
    plan = _run("rotate", "--route", ROUTE, "--members", members, "--threshold", "2", "--dry-run")
    assert plan["statement"] == {"epoch": 2, "threshold": 2, "members": NEW}
    assert plan["current"]["epoch"] == 1
    assert plan["digest"].startswith("0x")
    assert plan["in_flight"] == {"transfers": 0, "batches": 0}
    assert plan["rotation"] is None
    assert store.rotations() == []


def test_rotate_requests_and_status_and_list_show_it(
    through_app: TestClient, store: SqlStore
) -> None:
    made = _run("rotate", "--route", ROUTE, "--members", ",".join(NEW), "--threshold", "2")
    assert made["rotation"]["state"] == "draining"
    (chain,) = _run("status")
    assert chain["open_rotation"]["id"] == made["rotation"]["id"]
    assert [r["id"] for r in _run("list")] == [made["rotation"]["id"]]


def test_without_an_api_key_the_command_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PJGW_API_KEY", raising=False)
    result = CliRunner().invoke(cli, ["committee", "status", "--api", API])
    assert result.exit_code == 2
    assert "PJGW_API_KEY" in result.output
