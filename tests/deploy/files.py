"""The deployment files as the tests read them: Dockerfile stages, compose with its values.

Compose fills ``${VAR}``, ``${VAR:-default}`` and ``${VAR:?message}`` from
``deploy/.env``; the tests fill them from ``deploy/.env.example`` (what a new
operator copies) with the same three rules, so a command checked here is the
command the container runs.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path
from typing import Any

import yaml
from dockerfile_parse import DockerfileParser

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DEPLOY = REPO_ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
CHAINS = DEPLOY / "chains.toml"
ENV_EXAMPLE = DEPLOY / ".env.example"
DEV_SECRETS = DEPLOY / "secrets" / "dev"
GUIDE = REPO_ROOT / "docs" / "operator-guide.md"
BIN = Path(sys.executable).parent
PJGW = str(BIN / "pjgw")

_VAR = re.compile(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}")


def tool(name: str) -> str:
    """A linter installed with the dev extras, next to this interpreter."""
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is missing: `make install` (pyproject dev extras)")
    return found


def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return values


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose's variable rules over strings, lists and mappings."""
    if isinstance(value, str):

        def one(match: re.Match[str]) -> str:
            name, op, arg = match.groups()
            if name in env and (env[name] or op is None):
                return env[name]
            if op == ":?":
                raise KeyError(f"{name} is required: {arg}")
            return arg or ""

        return _VAR.sub(one, value)
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    return value


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    """compose.yaml with its anchors merged and its variables filled from .env.example."""
    raw = yaml.safe_load(COMPOSE.read_text())
    return interpolate(raw, env_example() if env is None else env)  # type: ignore[no-any-return]


def stages() -> list[tuple[str, list[dict[str, Any]]]]:
    """``(stage name, instructions)`` per FROM of the Dockerfile, comments left out."""
    parsed = DockerfileParser(str(DOCKERFILE))
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for item in parsed.structure:
        if item["instruction"] == "FROM":
            words = item["value"].split()
            out.append((words[-1] if len(words) == 3 else words[0], []))
        elif item["instruction"] != "COMMENT" and out:
            out[-1][1].append(item)
    return out


def final_stage() -> tuple[str, list[dict[str, Any]]]:
    return stages()[-1]
