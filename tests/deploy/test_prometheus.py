"""The Prometheus files are valid and mean what they say: promtool checks the rules and the
scrape configuration and runs the rules' unit tests (each alert fires on synthetic series);
every alert has a test; the rules and the dashboard use only metric names some process
exports (or that another issue will, ``PENDING``).

``promtool`` is Debian's (package ``prometheus``, installed by ``.ci/run``).
"""

from __future__ import annotations

import json
import shutil
import subprocess

import yaml

from tests.deploy.monitoring import (
    ALERT_TESTS,
    ALERTS,
    DASHBOARD,
    PENDING,
    PROMETHEUS,
    SCRAPE_CONFIG,
    alert_rules,
    dashboard_metric_names,
    exported_metric_names,
    rule_metric_names,
)

REQUIRED_ALERTS = {
    "PjgwLightClientNearExpiry",
    "PjgwRouteStopped",
    "PjgwBacklogGrowing",
    "PjgwSignerBalanceLow",
    "PjgwNotarySilent",
}


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    path = shutil.which("promtool")
    assert path is not None, "promtool is missing: apt-get install prometheus (.ci/run does)"
    return subprocess.run(
        [path, *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120, check=False
    )


def test_promtool_accepts_the_alert_rules() -> None:
    result = promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_promtool_accepts_the_scrape_configuration() -> None:
    result = promtool("check", "config", str(SCRAPE_CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr


def test_each_alert_fires_on_synthetic_series_in_promtools_unit_tests() -> None:
    result = promtool("test", "rules", str(ALERT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_every_alert_has_a_unit_test_where_it_fires() -> None:
    names = {rule["alert"] for rule in alert_rules()}
    assert names >= REQUIRED_ALERTS
    doc = yaml.safe_load(ALERT_TESTS.read_text())
    fired = {
        case["alertname"]
        for test in doc["tests"]
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    assert names - fired == set()


def test_the_dashboard_is_grafana_json_with_a_query_in_every_panel() -> None:
    doc = json.loads(DASHBOARD.read_text())
    assert doc["uid"] == "pujiang-gateway"
    ids = [panel["id"] for panel in doc["panels"]]
    assert len(ids) == len(set(ids))
    for panel in doc["panels"]:
        assert panel["targets"], panel["title"]
        assert all(t["expr"].strip() for t in panel["targets"]), panel["title"]


def test_rules_and_dashboard_use_only_exported_metric_names() -> None:
    exported = exported_metric_names()
    used = rule_metric_names() | dashboard_metric_names()
    assert used - exported - set(PENDING) == set()
    assert set(PENDING) & exported == set(), "exported now: remove it from PENDING"
    assert set(PENDING) <= used  # a pending name nothing uses is a stale entry
