"""Every process of the hub exports its metrics and writes JSON logs that hold no secret.

One real transfer devnet -> anvil through separate processes (``tests.e2e.harness.Hub``):
the API, one relayer, three notaries and the devnet node, each with
``PJGW_LOG_FORMAT=json`` and a metrics port. Each process is scraped over HTTP
before and after the transfer, and the metrics named in the issue are checked to
move; every metric name used by ``deploy/prometheus/alerts.yml`` and
``deploy/grafana/pujiang-gateway.json`` must be among the scraped ones (or
pending another issue, ``tests.deploy.monitoring.PENDING``). Then every line
every process logged must parse as JSON, the relayer's and notaries' lines must
carry the transfer id and route, the API's the request id, and none of the
secrets the test handed out (notary keys, the relayer's key, API keys, the
keystore password) may appear in any log or scrape.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.deploy.monitoring import (
    PENDING,
    dashboard_metric_names,
    exposed_names,
    rule_metric_names,
)
from tests.e2e.harness import AMOUNT, Hub, chains_toml, create_key, signed_send, wait_until
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import DevnetProcess, start_devnet
from tests.fixtures.relay import NOTARY_KEYS, ROUTE, Anvil
from tests.fixtures.tiers import starts
from tests.net import free_port

KEYSTORE_PASSWORD = "keystore-password-" + uuid.uuid4().hex
JSON_LOGS = {"PJGW_LOG_FORMAT": "json"}


@pytest.fixture
@starts("chain")
def metered_devnet(tmp_path: Path) -> Iterator[tuple[DevnetProcess, int]]:
    port = free_port()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PJGW_LOG_FORMAT", "json")
        node = start_devnet(tmp_path / "devnet", metrics_port=port)
    yield node, port
    node.stop()


Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> tuple[str, Samples]:
    """``GET /metrics`` on a process's metrics port: the text and every sample."""
    return scrape_url(f"http://127.0.0.1:{port}/metrics")


def scrape_url(url: str) -> tuple[str, Samples]:
    """``GET url``: the exposition text and every sample by (name, labels)."""
    text = httpx.get(url, timeout=10).text
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def test_every_process_exports_metrics_that_move_and_logs_json_lines_without_secrets(
    tmp_path: Path, hub: Hub, metered_devnet: tuple[DevnetProcess, int], stamped: Anvil
) -> None:
    devnet, devnet_port = metered_devnet
    env = stamped
    keystore = tmp_path / "keystore"
    hub.store_env.update(
        {"PJGW_KEYSTORE_DIR": str(keystore), "PJGW_KEYSTORE_PASSWORD": KEYSTORE_PASSWORD}
    )
    relayer_chains = hub.write("relayer.toml", chains_toml(devnet.url, env, hub=True))
    notary_chains = hub.write("notary.toml", chains_toml(devnet.url, env, hub=False))
    client_key = create_key(hub.store_env, "observer", "client")
    hub.start_api(relayer_chains, PJGW_LOG_LEVEL="info", **JSON_LOGS)
    relayer_port = free_port()
    hub.start_relayer(
        "relayer",
        relayer_chains,
        PJGW_RELAYER_METRICS_PORT=str(relayer_port),
        PJGW_RELAYER_CLIENT_REFRESH_INTERVAL="0.5",
        **JSON_LOGS,
    )
    notary_ports = [free_port() for _ in NOTARY_KEYS]
    for index, port in enumerate(notary_ports):
        hub.start_notary(index, notary_chains, PJGW_NOTARY_METRICS_PORT=str(port), **JSON_LOGS)
    ports = {"relayer": relayer_port, "devnet": devnet_port}
    ports |= {f"notary-{i}": p for i, p in enumerate(notary_ports)}
    wait_until(lambda: _all_answer(ports.values()), 60, "every metrics port answers")
    before = {name: scrape(port)[1] for name, port in ports.items()}

    sender, tx = signed_send(devnet.url, env.alice, int(env.chain.timestamp()) + 3600)
    request_id = "observability-" + uuid.uuid4().hex[:12]
    created = httpx.post(
        hub.url + "/v1/transfers",
        json={
            "route_id": ROUTE,
            "kind": "asset",
            "sender": sender,
            "receiver": env.alice,
            "denom": "upj",
            "amount": str(AMOUNT),
            "timeout_seconds": int(env.chain.timestamp()) + 3600,
            "signed_tx": "0x" + tx.hex(),
        },
        headers={
            "X-API-Key": client_key,
            "Idempotency-Key": str(uuid.uuid4()),
            "X-Request-Id": request_id,
        },
        timeout=10,
    )
    assert created.status_code == 201, created.text
    assert created.headers["x-request-id"] == request_id
    transfer_id = created.json()["id"]
    states = hub.wait_terminal(1, 120)
    assert states == {"completed": 1}, hub.processes.tails()

    # The keeper publishes the client after its next pass (every 0.5 s here); the relayer
    # counts the completion after the store's commit the API just read, so a scrape can
    # fall between the two: wait for the count too, never assert on a race.
    def published() -> bool:
        metrics = scrape(relayer_port)[1]
        return (
            value(metrics, "pjgw_relayer_client_trusted_height", chain=DEVNET_CHAIN) > 0
            and value(metrics, "pjgw_relayer_transitions_total", state="completed") >= 1
        )

    wait_until(published, 30, "the relayer publishes its light client and the completion")
    texts, after = {}, {}
    for name, port in ports.items():
        texts[name], after[name] = scrape(port)
    api_text, api = scrape_url(hub.url + "/metrics")
    texts["api"] = api_text

    # --- the relayer ---------------------------------------------------------------------
    relayer, was = after["relayer"], before["relayer"]
    assert value(relayer, "pjgw_relayer_transitions_total", state="completed") == 1
    assert value(was, "pjgw_relayer_transitions_total", state="completed") == 0
    assert value(relayer, "pjgw_relayer_quorum_wait_seconds_count", route=ROUTE) == 1
    assert total(relayer, "pjgw_relayer_step_duration_seconds_count") > total(
        was, "pjgw_relayer_step_duration_seconds_count"
    )
    assert value(relayer, "pjgw_relayer_cursor_height", chain=DEVNET_CHAIN) > value(
        was, "pjgw_relayer_cursor_height", chain=DEVNET_CHAIN
    )
    assert value(relayer, "pjgw_relayer_finalized_height", chain=DEVNET_CHAIN) >= value(
        relayer, "pjgw_relayer_cursor_height", chain=DEVNET_CHAIN
    )
    assert value(relayer, "pjgw_relayer_client_expiry_seconds", chain=DEVNET_CHAIN) > 0
    assert value(relayer, "pjgw_relayer_client_trusting_period_seconds", chain=DEVNET_CHAIN) > 0
    assert value(relayer, "pjgw_relayer_client_frozen", chain=DEVNET_CHAIN) == 0
    assert value(relayer, "pjgw_relayer_route_up", route=ROUTE) == 1
    assert value(relayer, "pjgw_relayer_route_stopped", route=ROUTE, reason="client_frozen") == 0
    assert value(relayer, "pjgw_relayer_leases_held") == 0  # released after the last step
    assert ("pjgw_relayer_backoff_queue", ()) in relayer
    assert value(relayer, "pjgw_transfers", state="completed") == 1  # the app's collector
    # --- the notaries: a quorum of two attested, each verification timed -----------------
    attested = [
        value(after[f"notary-{i}"], "pjgw_notary_attestations_total", kind="delivery")
        for i in range(len(NOTARY_KEYS))
    ]
    assert sum(1 for n in attested if n >= 1) >= 2, attested
    for i, n in enumerate(attested):
        notary, was = after[f"notary-{i}"], before[f"notary-{i}"]
        assert value(was, "pjgw_notary_attestations_total", kind="delivery") == 0
        # one statement per packet, however often its signature was handed out
        assert value(notary, "pjgw_notary_signed_log_statements") == min(n, 1)
        assert (
            value(notary, "pjgw_notary_verification_duration_seconds_count", kind="delivery") >= n
        )
        assert value(notary, "pjgw_notary_last_poll_timestamp_seconds") > 0
    # --- the devnet node --------------------------------------------------------------------
    node, was = after["devnet"], before["devnet"]
    assert (
        value(node, "pjgw_devnet_txs_committed_total")
        >= value(was, "pjgw_devnet_txs_committed_total") + 1
    )
    assert value(node, "pjgw_devnet_height") > value(was, "pjgw_devnet_height")
    assert ("pjgw_devnet_mempool_size", ()) in node
    # --- the API ----------------------------------------------------------------------------
    assert value(api, "pjgw_transfers", state="completed") == 1

    # --- the rules and the dashboard use only exported names ---------------------------------
    exported = {name for text in texts.values() for name in exposed_names(text)}
    used = rule_metric_names() | dashboard_metric_names()
    assert used - exported - set(PENDING) == set()
    assert set(PENDING) & exported == set(), "exported now: remove it from PENDING"

    # --- the logs ------------------------------------------------------------------------------
    secrets = _secrets(hub, client_key, env)
    logs = {path.name: path.read_text() for path in tmp_path.glob("*.log")}
    assert {"api.log", "relayer.log", "notary-0.log"} <= set(logs), sorted(logs)
    assert any(name.startswith("devnet-") for name in logs)
    lines: dict[str, list[dict[str, object]]] = {}
    for name, text in logs.items():
        lines[name] = []
        for number, line in enumerate(text.splitlines(), 1):
            try:
                lines[name].append(json.loads(line))
            except ValueError:
                pytest.fail(f"{name}:{number} is not JSON: {line[:300]}")
    for name, text in {**logs, **texts}.items():
        for label, secret in secrets.items():
            assert secret.lower() not in text.lower(), f"{label} appears in {name}"
    relayed = [ln for ln in lines["relayer.log"] if ln.get("transfer_id") == transfer_id]
    assert relayed, "no relayer line carries the transfer id"
    assert all(ln.get("route") == ROUTE for ln in relayed)
    assert any(ln.get("chain") == DEVNET_CHAIN for ln in lines["relayer.log"])
    notarised = [
        ln
        for i in range(len(NOTARY_KEYS))
        for ln in lines[f"notary-{i}.log"]
        if ln.get("transfer_id") == transfer_id
    ]
    assert notarised, "no notary line carries the transfer id"
    assert any(ln.get("request_id") == request_id for ln in lines["api.log"])


def _all_answer(ports: object) -> bool:
    try:
        return all(
            httpx.get(f"http://127.0.0.1:{p}/metrics", timeout=1).status_code == 200
            for p in ports  # type: ignore[attr-defined]
        )
    except httpx.HTTPError:
        return False


def _secrets(hub: Hub, client_key: str, env: Anvil) -> dict[str, str]:
    """Every secret the test handed to a process, by what it is."""
    found = {f"notary key {i}": key.hex() for i, key in enumerate(NOTARY_KEYS)}
    found |= {f"notary API key {i}": token for i, token in enumerate(hub.notary_tokens)}
    found["client API key"] = client_key
    found["relayer key"] = env.relayer_key.removeprefix("0x")
    found["keystore password"] = KEYSTORE_PASSWORD
    return found
