"""``pjgw risk`` and the held-transfer ``pjgw ops`` commands against the app itself (a real
SQLite store): an admin sets a limit (a bad one refused naming its field), a supervisor
reads the held queue and releases, a client key is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from core.records import RiskLimitRecord
from core.states import TransferState
from gateway.cli import risk as risk_cli
from gateway.cli.main import app as cli
from gateway.store import SqlStore
from relayer.risk.holds import screen
from tests.gateway.helpers import ROUTE, Keys
from tests.store.helpers import new_transfer

pytestmark = pytest.mark.usefixtures("chains")


@pytest.fixture
def run(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(risk_cli, "client_for", lambda api: TestClient(app, base_url="http://hub"))

    def invoke(key: str, *args: str) -> Any:
        return CliRunner().invoke(cli, list(args), env={"PJGW_API_KEY": key})

    return invoke


def _held(store: SqlStore) -> str:
    store.put_risk_limit(RiskLimitRecord(ROUTE, "upjt", max_amount=1), 1.0)
    record, _ = store.create_transfer(new_transfer(route_id=ROUTE), 2.0)
    (held,) = screen(store, [record], TransferState.REQUESTED, "api", 2.0, recheck=300.0)
    assert held.state is TransferState.HELD
    return held.id


def test_an_admin_sets_a_limit_and_a_bad_one_is_refused_naming_its_field(
    run: Any, keys: Keys, store: SqlStore
) -> None:
    ok = run(keys.admin, "risk", "set", "--route", ROUTE, "--denom", "upj",
             "--window", "3600", "--window-amount", "5000", "--rate", "10")  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["window"] == {"seconds": 3600, "amount": "5000", "used": "0"}
    bad = run(keys.admin, "risk", "set", "--route", ROUTE, "--denom", "upj", "--window", "0",
              "--window-amount", "5")  # fmt: skip
    assert bad.exit_code == 1
    assert '"loc":["body","window","seconds"]' in bad.output.replace("\n", "")
    (limit,) = store.risk_limits()
    assert limit.window_seconds == 3600


def test_a_supervisor_reads_the_queue_and_releases_and_a_client_key_cannot(
    run: Any, keys: Keys, store: SqlStore
) -> None:
    held = _held(store)
    supervisor = store.create_api_key("sup", "supervisor", 1.0)
    shown = run(supervisor, "risk", "show")
    assert shown.exit_code == 0, shown.output
    assert [t["id"] for t in json.loads(shown.output)["held"]] == [held]
    refused = run(keys.client, "ops", "release", held, "--reason", "mine")
    assert refused.exit_code == 1
    assert "403" in refused.output
    released = run(supervisor, "ops", "release", held, "--reason", "reviewed")
    assert released.exit_code == 0, released.output
    assert store.transfer(held).state is TransferState.REQUESTED
    (entry,) = [e for e in store.audit_entries(subject_id=held)[0] if e["actor"] == "sup"]
    assert entry["reason"] == "released by a supervisor: reviewed"
