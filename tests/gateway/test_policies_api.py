"""``/v1/routes/{route_id}/policy`` over the API (a real SQLite store, the app over ASGI).

Writes are validated field by field (a malleate table: one broken field per row, the
exact 422 field asserted), a policy that would hold every transfer is refused unless
forced, each write and dry run is in the audit log under the calling key, only an
admin writes, and the CLI drives the same endpoints through a real server.
"""

from __future__ import annotations

import copy
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from typer.testing import CliRunner

from gateway.app import create_app
from gateway.cli import app as cli
from gateway.settings import Settings
from gateway.store import SqlStore
from tests.gateway.helpers import ROUTE, Keys, StepClock
from tests.gateway.test_transfers_api import assert_problem

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("chains")]

ALICE = "0x" + "aa" * 20
URL = f"/v1/routes/{ROUTE}/policy"


@pytest.fixture
def app(tmp_path: Path, store: SqlStore, clock: StepClock) -> FastAPI:
    """The hub with one scanner command its policies may run (``PJGW_POLICY_SCANNERS``)."""
    return create_app(
        Settings(data_dir=tmp_path, policy_scanners=["/bin/true"]), store, clock=clock
    )


@pytest.fixture
def supervisor(store: SqlStore) -> str:
    return store.create_api_key("sup", "supervisor", 1.0)


def valid_rules() -> list[dict[str, Any]]:
    """One rule of every kind; the route's policy written by the tests below."""
    return [
        {"name": "senders", "kind": "sender", "action": "hold", "mode": "allow", "values": [ALICE]},
        {"name": "no-dead", "kind": "receiver", "action": "reject", "mode": "deny",
         "values": ["0x" + "de" * 20]},
        {"name": "denoms", "kind": "denom", "action": "reject", "mode": "allow", "values": ["upj"]},
        {"name": "types", "kind": "content_type", "action": "hold", "mode": "allow",
         "values": ["Application/JSON"]},
        {"name": "size", "kind": "size", "action": "hold", "max_bytes": 1024},
        {"name": "words", "kind": "keyword", "action": "hold", "values": ["forbidden"]},
        {"name": "cards", "kind": "regex", "action": "hold", "pattern": r"\b\d{16}\b"},
        {"name": "scan", "kind": "scanner", "action": "hold", "argv": ["/bin/true"],
         "timeout_ms": 1000, "max_output": 100, "on_error": "reject"},
    ]  # fmt: skip


def _with(path: str, value: object) -> Callable[[list[dict[str, Any]]], Any]:
    """Set one field ``rules[i].key`` (or drop it with ``...``) of the valid rules."""

    def change(rules: list[dict[str, Any]]) -> Any:
        index, key = int(path.split(".")[0]), path.split(".", 1)[1]
        if value is ...:
            del rules[index][key]
        else:
            rules[index][key] = value
        return rules

    return change


# name: (change to the valid rules, the exact field named)
WRITE_ROWS: dict[str, tuple[Callable[[list[dict[str, Any]]], Any], str]] = {
    "bad regex": (_with("6.pattern", "(unclosed"), "rules[6].pattern"),
    "regex too long": (_with("6.pattern", "a" * 513), "rules[6].pattern"),
    "empty argv": (_with("7.argv", []), "rules[7].argv"),
    "argv without an absolute path": (_with("7.argv", ["scanner"]), "rules[7].argv[0]"),
    "a command the hub does not list": (_with("7.argv", ["/bin/sh", "-c"]), "rules[7].argv[0]"),
    "scanner timeout 0": (_with("7.timeout_ms", 0), "rules[7].timeout_ms"),
    "scanner output over its bound": (_with("7.max_output", 65537), "rules[7].max_output"),
    "unknown action": (_with("0.action", "drop"), "rules[0].action"),
    "unknown on_error": (_with("6.on_error", "ignore"), "rules[6].on_error"),
    "unknown kind": (_with("1.kind", "amount"), "rules[1].kind"),
    "unknown mode": (_with("2.mode", "maybe"), "rules[2].mode"),
    "no name": (_with("0.name", ...), "rules[0].name"),
    "bad name": (_with("0.name", "Senders!"), "rules[0].name"),
    "a name used twice": (_with("1.name", "senders"), "rules[1].name"),
    "a field of another kind": (_with("4.pattern", "x"), "rules[4].pattern"),
    "over-size list": (_with("2.values", [f"d{i}" for i in range(1001)]), "rules[2].values"),
    "a value too long": (_with("2.values", ["d" * 257]), "rules[2].values[0]"),
    "an empty value": (_with("2.values", ["upj", " "]), "rules[2].values[1]"),
    "a sender that is not an address of the source chain": (
        _with("0.values", [ALICE, "alice"]), "rules[0].values[1]",
    ),
    "a content type that is not a media type": (_with("3.values", ["json"]), "rules[3].values[0]"),
    "a negative size": (_with("4.max_bytes", -1), "rules[4].max_bytes"),
    "no keyword": (_with("5.values", []), "rules[5].values"),
    "an empty deny list": (_with("1.values", []), "rules[1].values"),
    "too many rules": (
        lambda rules: [dict(rules[4], name=f"s{i}") for i in range(65)], "rules",
    ),
}  # fmt: skip


def _h(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


async def test_a_valid_policy_is_written_normalized_and_read_back(
    api: httpx.AsyncClient, keys: Keys, supervisor: str
) -> None:
    rules = valid_rules()
    rules[0]["values"] = [ALICE.upper().replace("0X", "0x")]
    written = await api.put(URL, json={"rules": rules}, headers=_h(keys.admin))
    assert written.status_code == 200, written.text
    body = written.json()
    assert body["version"] == 1
    assert body["rules"][0]["values"] == [ALICE]  # the source family's spelling
    assert body["rules"][3]["values"] == ["application/json"]
    assert body["rules"][6]["on_error"] == "hold"  # the default, written out
    read = await api.get(URL, headers=_h(supervisor))
    assert read.json() == body


@pytest.mark.parametrize("name", list(WRITE_ROWS))
async def test_a_write_with_one_bad_field_is_422_naming_it(
    name: str, api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    change, field = WRITE_ROWS[name]
    rules = change(copy.deepcopy(valid_rules()))
    response = await api.put(URL, json={"rules": rules}, headers=_h(keys.admin))
    problem = assert_problem(response, 422, "invalid-input")
    assert problem["errors"][0]["loc"] == ["body", field]
    assert store.payload_policy(ROUTE).version == 0  # nothing written
    assert store.audit_entries(action="policy.set")[0] == []


async def test_a_policy_for_an_unknown_route_is_422_on_route_id_and_unknown_reads_are_404(
    api: httpx.AsyncClient, keys: Keys
) -> None:
    response = await api.put(
        "/v1/routes/nope/policy", json={"rules": valid_rules()}, headers=_h(keys.admin)
    )
    problem = assert_problem(response, 422, "invalid-input")
    assert problem["errors"][0]["loc"] == ["body", "route_id"]
    assert_problem(
        await api.get("/v1/routes/nope/policy", headers=_h(keys.admin)), 404, "not-found"
    )


BROAD = {
    "an empty allow list": (
        [{"name": "nobody", "kind": "sender", "action": "hold", "mode": "allow", "values": []}],
        "rules[0]",
    ),
    "an allow list its deny list cancels": (
        [
            {"name": "only-upj", "kind": "denom", "action": "hold", "mode": "allow",
             "values": ["upj"]},
            {"name": "not-upj", "kind": "denom", "action": "reject", "mode": "deny",
             "values": ["upj", "uatom"]},
        ],
        "rules[0]",
    ),
    "a size of 0": (
        [{"name": "zero", "kind": "size", "action": "reject", "max_bytes": 0}], "rules[0]",
    ),
    "a regex matching the empty text": (
        [
            {"name": "fine", "kind": "keyword", "action": "hold", "values": ["x"]},
            {"name": "all", "kind": "regex", "action": "hold", "pattern": "(?i)z*"},
        ],
        "rules[1]",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(BROAD))
async def test_a_policy_that_holds_every_transfer_is_refused_unless_forced(
    name: str, api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    rules, field = BROAD[name]
    refused = await api.put(URL, json={"rules": rules}, headers=_h(keys.admin))
    problem = assert_problem(refused, 422, "policy-too-broad")
    assert problem["errors"][0]["loc"] == ["body", field]
    assert "force=true" in problem["detail"]
    assert store.payload_policy(ROUTE).version == 0
    forced = await api.put(URL, json={"rules": rules, "force": True}, headers=_h(keys.admin))
    assert forced.status_code == 200, forced.text
    (entry,), _ = store.audit_entries(action="policy.set")
    assert entry["after"]["forced"] is True


async def test_a_narrow_policy_needs_no_force_and_is_not_marked_forced(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    rules = [{"name": "anchored", "kind": "regex", "action": "hold", "pattern": "^x+$"}]
    written = await api.put(URL, json={"rules": rules, "force": True}, headers=_h(keys.admin))
    assert written.status_code == 200, written.text
    (entry,), _ = store.audit_entries(action="policy.set")
    assert entry["after"]["forced"] is False


async def test_only_an_admin_writes_a_supervisor_reads_and_dry_runs(
    api: httpx.AsyncClient, keys: Keys, supervisor: str
) -> None:
    body = {"rules": valid_rules()}
    assert_problem(await api.put(URL, json=body), 401, "unauthorized")
    assert_problem(await api.put(URL, json=body, headers=_h(supervisor)), 403, "forbidden")
    assert_problem(await api.put(URL, json=body, headers=_h(keys.client)), 403, "forbidden")
    assert_problem(await api.get(URL, headers=_h(keys.client)), 403, "forbidden")
    assert_problem(await api.get(URL), 401, "unauthorized")
    assert (await api.get(URL, headers=_h(supervisor))).json()["version"] == 0
    sample = {"candidate": {"sender": ALICE, "receiver": ALICE}}
    assert_problem(
        await api.post(URL + "/dry-run", json=sample, headers=_h(keys.client)), 403, "forbidden"
    )
    assert (
        await api.post(URL + "/dry-run", json=sample, headers=_h(supervisor))
    ).status_code == 200


async def test_a_stale_expected_version_is_409(api: httpx.AsyncClient, keys: Keys) -> None:
    body = {"rules": valid_rules(), "expected_version": 0}
    assert (await api.put(URL, json=body, headers=_h(keys.admin))).status_code == 200
    assert_problem(await api.put(URL, json=body, headers=_h(keys.admin)), 409, "conflict")


async def test_writes_and_dry_runs_are_audited_under_the_calling_key(
    api: httpx.AsyncClient, keys: Keys, supervisor: str, store: SqlStore
) -> None:
    await api.put(URL, json={"rules": valid_rules()}, headers=_h(keys.admin))
    sample = {
        "sender": "0x" + "bb" * 20,  # not on the allow list
        "receiver": ALICE,
        "denom": "upj",
        "payload": "0x" + b'{"a": 1}'.hex(),
        "content_type": "application/json",
    }
    ran = await api.post(URL + "/dry-run", json={"candidate": sample}, headers=_h(supervisor))
    assert ran.status_code == 200, ran.text
    answer = ran.json()
    assert answer["version"] == 1
    assert answer["decision"] == {
        "verdict": "hold",
        "rule": f"policy:{ROUTE}/senders",
        "reason": "payload policy rule 'senders' (sender): the sender is not on the allow list; "
        "held for a supervisor's review",
    }
    assert [o["result"] for o in answer["outcomes"]] == ["fire"] + ["pass"] * 7
    (put,), _ = store.audit_entries(action="policy.set")
    assert (put["actor"], put["role"], put["subject_id"]) == ("ops", "admin", ROUTE)
    (dry,), _ = store.audit_entries(action="policy.dry_run")
    assert (dry["actor"], dry["role"], dry["subject_id"]) == ("sup", "supervisor", ROUTE)
    assert dry["after"] == {"policy_version": 1, "verdict": answer["decision"]}
    assert store.list_transfers()[0] == []  # a dry run creates nothing


async def test_a_dry_run_of_proposed_rules_writes_no_policy(
    api: httpx.AsyncClient, keys: Keys, store: SqlStore
) -> None:
    proposed = [{"name": "words", "kind": "keyword", "action": "reject", "values": ["SECRET"]}]
    sample = {"sender": ALICE, "receiver": ALICE, "payload": "0x" + b"top secret".hex()}
    ran = await api.post(
        URL + "/dry-run", json={"candidate": sample, "rules": proposed}, headers=_h(keys.admin)
    )
    answer = ran.json()
    assert (answer["version"], answer["decision"]["verdict"]) == (None, "reject")
    assert "keyword 1 of the rule" in answer["decision"]["reason"]
    assert "secret" not in answer["decision"]["reason"].lower()
    assert store.payload_policy(ROUTE).version == 0
    bad = await api.post(
        URL + "/dry-run",
        json={"candidate": sample, "rules": [{"name": "x", "kind": "regex", "action": "hold"}]},
        headers=_h(keys.admin),
    )
    assert assert_problem(bad, 422, "invalid-input")["errors"][0]["loc"] == [
        "body",
        "rules[0].pattern",
    ]


# -- the CLI, through a real server on the loopback ----------------------------------


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(500):  # until it serves (bounded)
            if running.started:
                break
            threading.Event().wait(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        running.should_exit = True
        thread.join(timeout=30)
        sock.close()


def test_the_cli_shows_sets_and_dry_runs_a_policy(
    server: str, keys: Keys, supervisor: str, store: SqlStore, tmp_path: Path
) -> None:
    runner = CliRunner()
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"rules": valid_rules()}))
    admin = {"PJGW_API_KEY": keys.admin, "PJGW_API_URL": server}
    sup = {"PJGW_API_KEY": supervisor, "PJGW_API_URL": server}
    done = runner.invoke(cli, ["policy", "set", ROUTE, str(policy)], env=admin)
    assert done.exit_code == 0, done.output
    assert "policy version 1" in done.output
    refused = runner.invoke(cli, ["policy", "set", ROUTE, str(policy)], env=sup)
    assert refused.exit_code == 1
    assert "403" in refused.output
    shown = runner.invoke(cli, ["policy", "show", ROUTE], env=sup)
    assert shown.exit_code == 0, shown.output
    assert '"version": 1' in shown.output
    broad = tmp_path / "broad.json"
    broad.write_text(json.dumps([{"name": "z", "kind": "size", "action": "hold", "max_bytes": 0}]))
    no = runner.invoke(cli, ["policy", "set", ROUTE, str(broad)], env=admin)
    assert no.exit_code == 1
    assert "policy-too-broad" in no.output
    forced = runner.invoke(
        cli, ["policy", "set", ROUTE, str(broad), "--force", "--expected-version", "1"], env=admin
    )
    assert forced.exit_code == 0, forced.output
    candidate = tmp_path / "candidate.json"
    sample = {
        "sender": ALICE,
        "receiver": ALICE,
        "denom": "upj",
        "payload": "0x" + b"{}".hex(),
        "content_type": "application/json",
    }
    candidate.write_text(json.dumps(sample))
    held = runner.invoke(cli, ["policy", "dry-run", ROUTE, "--candidate", str(candidate)], env=sup)
    assert held.exit_code == 1  # it would not pass
    assert f"policy:{ROUTE}/z" in held.output
    passing = runner.invoke(
        cli,
        ["policy", "dry-run", ROUTE, "--candidate", str(candidate), "--rules", str(policy)],
        env=sup,
    )
    assert passing.exit_code == 0, passing.output
    assert [e["action"] for e in store.audit_entries(subject="route")[0]][-4:] == [
        "policy.set",
        "policy.set",
        "policy.dry_run",
        "policy.dry_run",
    ]
