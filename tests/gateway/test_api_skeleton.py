"""gateway: the app factory, problem+json errors, and the doctor self-check."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from core.errors import RootMismatch
from gateway.app import create_app
from gateway.cli import app as cli_app
from gateway.problems import PROBLEM_MEDIA_TYPE, problem_type
from gateway.settings import Settings


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    # No store given: the app opens the embedded default under data_dir on first use.
    app = create_app(Settings(data_dir=tmp_path))

    @app.get("/_raise")
    async def _raise() -> None:
        raise RootMismatch("proof ends at another root", computed="ab")

    @app.get("/_crash")
    async def _crash() -> None:
        raise RuntimeError("secret internals: sk=1234")

    return TestClient(app, raise_server_exceptions=False)


def test_health_and_ready_answer(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_info_names_the_bls_backend_in_use(client: TestClient) -> None:
    body = client.get("/v1/info").json()
    assert body["name"] == "pujiang-gateway"
    assert body["bls_backend"] in {"py_ecc", "milagro", "milagro+arkworks"}
    assert set(body["hash_functions"]) == {"sha256", "keccak256", "sm3"}


def test_gateway_error_becomes_problem_json_with_stable_type(client: TestClient) -> None:
    response = client.get("/_raise")
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    body = response.json()
    assert body["type"] == problem_type("root-mismatch")
    assert body["code"] == "root-mismatch"
    assert body["detail"] == "proof ends at another root"
    assert body["retryable"] is False


def test_unknown_route_is_problem_json(client: TestClient) -> None:
    response = client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["type"] == problem_type("not-found")


def test_unexpected_error_hides_its_text(client: TestClient) -> None:
    response = client.get("/_crash")
    assert response.status_code == 500
    body = response.json()
    assert body["type"] == problem_type("internal")
    assert "sk=1234" not in response.text


def test_doctor_passes_on_this_install() -> None:
    result = CliRunner().invoke(cli_app, ["doctor"])
    assert result.exit_code == 0, result.output
    for check in ("sha256", "keccak256", "sm3", "bls py_ecc", "bls milagro"):
        assert check in result.output
    assert "FAILED" not in result.output
