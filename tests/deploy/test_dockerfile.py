"""The Dockerfile: hadolint-clean, non-root, a healthcheck that works, deps before source.

These machines cannot run Docker, so the image is checked in parts that can
run here: the linter over the file, its structure, the wheel stage's build on
the same files it copies, and the HEALTHCHECK command itself against a real
``pjgw serve``.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deploy.files import DOCKERFILE, PJGW, REPO_ROOT, final_stage, stages, tool
from tests.fixtures.tiers import starts
from tests.net import LOOPBACK, free_port


def _values(instructions: list[dict[str, Any]], name: str) -> list[str]:
    return [i["value"] for i in instructions if i["instruction"] == name]


def _exec_form(value: str) -> list[str]:
    """The JSON array after ``CMD`` (exec form), e.g. of a HEALTHCHECK."""
    head, _, array = value.partition("CMD ")
    return json.loads(array) if array else json.loads(head)


def test_hadolint_reports_nothing_and_nothing_is_ignored() -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""
    assert "hadolint ignore" not in DOCKERFILE.read_text()
    assert not list(REPO_ROOT.glob(".hadolint.y*ml"))


def test_hadolint_flags_a_root_user_so_the_lint_test_can_fail(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text(DOCKERFILE.read_text().replace("USER 10001:10001", "USER root"))
    result = subprocess.run(
        [tool("hadolint"), "--no-color", str(broken)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "DL3002" in result.stdout  # "Last USER should not be root"


def test_final_stage_runs_as_a_numeric_non_root_user() -> None:
    _, instructions = final_stage()
    users = _values(instructions, "USER")
    assert users, "the runtime stage sets no USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0


def test_final_stage_has_a_healthcheck_and_pjgw_serve_as_its_command() -> None:
    _, instructions = final_stage()
    (check,) = _values(instructions, "HEALTHCHECK")
    assert "/healthz" in check
    assert "--interval=" in check
    assert _exec_form(_values(instructions, "CMD")[-1]) == ["pjgw", "serve"]
    env = " ".join(_values(instructions, "ENV"))
    assert "PJGW_HOST=0.0.0.0" in env
    assert "PJGW_DATA_DIR=/var/lib/pjgw" in env
    assert any("/var/lib/pjgw" in v for v in _values(instructions, "VOLUME"))


def test_dependency_layer_comes_before_any_source() -> None:
    """pyproject alone, the dependencies installed, and only then the project itself."""
    _, instructions = final_stage()
    kinds = [(i["instruction"], i["value"]) for i in instructions]
    deps = next(n for n, (k, v) in enumerate(kinds) if k == "RUN" and "--requirement" in v)
    project = next(n for n, (k, v) in enumerate(kinds) if k == "RUN" and ".whl" in v)
    assert deps < project
    before = [v for k, v in kinds[:deps] if k in ("COPY", "ADD")]
    assert before == ["pyproject.toml ./"], before
    sources = ("core/", "proofs/", "adapters/", "relayer/", "gateway/", "devnet/", ". ")
    for k, v in kinds[:deps]:
        assert not (k in ("COPY", "ADD") and any(s in v for s in sources)), v


def test_runtime_stage_gets_the_compiled_contracts_and_finds_them() -> None:
    by_name = dict(stages())
    assert any("contracts/build.mjs" in v for v in _values(by_name["contracts"], "RUN"))
    _, instructions = final_stage()
    copies = [v for v in _values(instructions, "COPY") if v.startswith("--from=contracts")]
    assert copies
    assert copies[0].split()[-1].rstrip("/") == "/app/build/contracts"
    assert "PJGW_CONTRACTS_DIR=/app/build/contracts" in " ".join(_values(instructions, "ENV"))


def test_wheel_stage_builds_from_exactly_what_it_copies(tmp_path: Path) -> None:
    """The wheel stage's COPY list, copied here, builds the wheel the image installs,
    with the migrations, the scaffold templates and the ``pjgw`` entry point in it."""
    by_name = dict(stages())
    src = tmp_path / "src"
    src.mkdir()
    for value in _values(by_name["wheel"], "COPY"):
        *sources, _dest = shlex.split(value)
        for name in sources:
            path = REPO_ROOT / name
            if path.is_dir():
                ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
                shutil.copytree(path, src / name.rstrip("/"), ignore=ignore)
            else:
                shutil.copy(path, src / name)
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "--wheel-dir",
            str(wheels),
            str(src),
        ],
        check=True,
        timeout=240,
        capture_output=True,
    )
    (wheel,) = wheels.glob("pujiang_gateway-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "gateway/migrations/versions/0001_initial.py" in names
    assert "gateway/scaffold/templates/pyproject.toml.tmpl" in names
    assert "devnet/__main__.py" in names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    assert "pjgw = gateway.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def _healthcheck() -> list[str]:
    """The runtime stage's HEALTHCHECK command, with this interpreter as ``python``."""
    _, instructions = final_stage()
    (check,) = _values(instructions, "HEALTHCHECK")
    command = _exec_form(check)
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


def _run_check(port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        _healthcheck(),
        env=os.environ | {"PJGW_PORT": str(port)},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.fixture
@starts("stack")  # the hub's API process
def serve(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    env = os.environ | {
        "PJGW_HOST": LOOPBACK,
        "PJGW_PORT": str(port),
        "PJGW_DATA_DIR": str(tmp_path / "data"),
        "PJGW_LOG_LEVEL": "warning",
    }
    process = subprocess.Popen([PJGW, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://{LOOPBACK}:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise TimeoutError((tmp_path / "serve.log").read_text())
        yield port, process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        log.close()


def test_healthcheck_exits_zero_against_a_running_pjgw_serve(
    serve: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, _ = serve
    result = _run_check(port)
    assert result.returncode == 0, result.stderr


def test_healthcheck_fails_once_pjgw_serve_has_stopped(
    serve: tuple[int, subprocess.Popen[bytes]],
) -> None:
    port, process = serve
    assert _run_check(port).returncode == 0
    process.terminate()
    process.wait(15)
    assert _run_check(port).returncode != 0


def test_healthcheck_fails_when_nothing_listens() -> None:
    assert _run_check(free_port()).returncode != 0
