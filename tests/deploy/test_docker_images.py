"""The images are built from a LOCAL base, never from a registry, and compose publishes
on loopback only.

``make docker-test`` (``deploy/docker/test.sh``) builds and runs all of it for real with
a dockerd; these checks run everywhere and catch the usual ways to break that without
noticing: a ``FROM`` naming a registry image (no registry is reachable on these
machines), a ``# syntax=`` line (BuildKit would pull its frontend image), a base tag
that the scripts no longer make, a port published on every interface, a script that
no longer parses.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.deploy.files import DEPLOY, DOCKERFILE, REPO_ROOT, compose, tool

DOCKER_DIR = DEPLOY / "docker"
BASE_DOCKERFILES = [DOCKER_DIR / "node.Dockerfile", DOCKER_DIR / "postgres" / "Dockerfile"]
SCRIPTS = [DOCKER_DIR / n for n in ("base-image.sh", "build.sh", "test.sh")]
SCRIPTS.append(DOCKER_DIR / "postgres" / "entrypoint.sh")
LOCAL_IMAGES = ("pujiang-base:", "pujiang-node:", "pujiang-postgres:", "pujiang-gateway:")
LOCAL_IMAGES += ("pujiang-anvil:",)


def _arg_defaults(text: str) -> dict[str, str]:
    return dict(re.findall(r"^ARG (\w+)=(\S+)$", text, flags=re.MULTILINE))


def _froms(text: str) -> list[str]:
    return re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)


@pytest.mark.parametrize("path", [DOCKERFILE, *BASE_DOCKERFILES], ids=lambda p: p.name)
def test_every_from_is_a_local_image_or_an_earlier_stage(path: Path) -> None:
    text = path.read_text()
    assert "# syntax=" not in text  # BuildKit would fetch the frontend from a registry
    defaults = _arg_defaults(text)
    stages: set[str] = set()
    for line in re.findall(r"^FROM .*$", text, flags=re.MULTILINE):
        words = line.split()
        image = words[1]
        variable = re.fullmatch(r"\$\{(\w+)\}", image)
        if variable:
            image = defaults[variable.group(1)]
        assert image in stages or image.startswith(LOCAL_IMAGES), line
        if len(words) == 4:
            stages.add(words[3])


def test_the_base_tags_are_the_ones_the_scripts_make() -> None:
    base_script = (DOCKER_DIR / "base-image.sh").read_text()
    build_script = (DOCKER_DIR / "build.sh").read_text()
    defaults = _arg_defaults(DOCKERFILE.read_text())
    assert f"PJGW_BASE_IMAGE:-{defaults['BASE_IMAGE']}" in base_script
    assert f"build {defaults['NODE_IMAGE']} " in build_script
    for path in BASE_DOCKERFILES:
        assert _arg_defaults(path.read_text())["BASE_IMAGE"] == defaults["BASE_IMAGE"]
    postgres = compose()["services"]["postgres"]["image"]
    assert f"build {postgres} " in build_script


@pytest.mark.parametrize("path", BASE_DOCKERFILES, ids=lambda p: p.parent.name + "/" + p.name)
def test_base_dockerfiles_are_hadolint_clean_but_for_debian_version_pins(path: Path) -> None:
    """DL3008 (pin apt versions) is the one rule left out, and only here: the packages come
    from the Debian mirror of the day, and a pinned bookworm version disappears from
    deb.debian.org at the next point release, which would break every later build."""
    lint = [tool("hadolint"), "--no-color", "--failure-threshold", "info", "--ignore", "DL3008"]
    result = subprocess.run(
        [*lint, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hadolint ignore" not in path.read_text()


def test_every_service_uses_a_local_image() -> None:
    for name, service in compose()["services"].items():
        assert service["image"].startswith(LOCAL_IMAGES), name


def test_every_published_port_is_bound_to_loopback() -> None:
    published = {n: s["ports"] for n, s in compose()["services"].items() if s.get("ports")}
    assert set(published) == {"hub", "devnet", "anvil"}
    for name, ports in published.items():
        for port in ports:
            assert str(port).startswith("127.0.0.1:"), (name, port)


def test_compose_has_no_top_level_name_for_compose_v1() -> None:
    """Debian's docker-compose 1.29 refuses a top-level ``name:``; .env names the project."""
    from tests.deploy.files import COMPOSE, env_example

    assert "name" not in __import__("yaml").safe_load(COMPOSE.read_text())
    assert env_example()["COMPOSE_PROJECT_NAME"] == "pujiang-gateway"


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_scripts_parse_and_are_executable(path: Path) -> None:
    shell = "sh" if path.name == "entrypoint.sh" else "bash"
    result = subprocess.run([shell, "-n", str(path)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert path.stat().st_mode & 0o111


def test_make_docker_test_runs_the_test_script() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r"^docker-test:\n\tdeploy/docker/test\.sh$", makefile, flags=re.MULTILINE)
