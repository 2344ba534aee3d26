"""``pjgw policy show|set|dry-run``: a route's payload policy through the API (audited).

Like ``pjgw ops``, these call the hub's API with ``PJGW_API_KEY`` (``set``: an admin
key; ``show`` and ``dry-run``: a supervisor's or an admin's), so every write and dry
run is in the audit log under the key's name. A policy file is JSON: ``{"rules":
[…]}`` or the list of rules itself (``docs/supervision.md`` "Payload policies").
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

policy_app = typer.Typer(help="Payload policies of routes, through the API (audited).")
console = Console(stderr=True)

Api = Annotated[str, typer.Option(envvar="PJGW_API_URL", help="The hub's API")]
DEFAULT_API = "http://127.0.0.1:8080"
MAX_FILE = 64 * 1024  # the API's body bound: a larger file would be refused anyway


def _request(api: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    import httpx

    key = os.environ.get("PJGW_API_KEY")
    if not key:
        console.print("[red]error[/] set PJGW_API_KEY to an admin or supervisor key")
        raise typer.Exit(code=2)
    try:
        response = httpx.request(
            method, api.rstrip("/") + path, json=body, headers={"X-API-Key": key}, timeout=60
        )
    except httpx.HTTPError as err:
        console.print(f"[red]error[/] the API did not answer: {escape(type(err).__name__)}")
        raise typer.Exit(code=2) from None
    if response.status_code >= 400:
        console.print(f"[red]{response.status_code}[/] {escape(response.text)}")
        raise typer.Exit(code=1)
    return response.json()


def _json_file(path: Path, what: str) -> Any:
    try:
        if path.stat().st_size > MAX_FILE:
            raise ValueError(f"larger than {MAX_FILE} bytes")
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        console.print(f"[red]error[/] {what} {escape(str(path))}: {escape(str(err))}")
        raise typer.Exit(code=2) from None


def _rules(path: Path) -> Any:
    doc = _json_file(path, "policy file")
    return doc.get("rules") if isinstance(doc, dict) else doc


@policy_app.command("show")
def show(route: str, api: Api = DEFAULT_API) -> None:
    """Print a route's policy: its version and rules in order (supervisor or admin)."""
    print(json.dumps(_request(api, "GET", f"/v1/routes/{route}/policy"), indent=2))


@policy_app.command("set")
def set_policy(
    route: str,
    file: Annotated[Path, typer.Argument(help="JSON: {'rules': [...]} or the list of rules")],
    force: Annotated[
        bool, typer.Option(help="Write it even if it would hold every transfer of the route")
    ] = False,
    expected_version: Annotated[
        int | None, typer.Option(help="Refuse unless the stored policy is at this version")
    ] = None,
    api: Api = DEFAULT_API,
) -> None:
    """Replace a route's policy (admin); it applies to the checks made after it."""
    body: dict[str, Any] = {"rules": _rules(file), "force": force}
    if expected_version is not None:
        body["expected_version"] = expected_version
    written = _request(api, "PUT", f"/v1/routes/{route}/policy", body)
    print(json.dumps(written, indent=2))
    console.print(f"[green]set[/] route {escape(route)} policy version {written['version']}")


@policy_app.command("dry-run")
def dry_run(
    route: str,
    candidate: Annotated[
        Path, typer.Option(help="JSON: sender, receiver, denom, amount, payload (0x…), …")
    ],
    rules: Annotated[
        Path | None, typer.Option(help="Proposed rules to try instead of the stored policy")
    ] = None,
    api: Api = DEFAULT_API,
) -> None:
    """Evaluate a sample transfer against the route's policy; exit 1 if it would not pass."""
    body: dict[str, Any] = {"candidate": _json_file(candidate, "candidate file")}
    if rules is not None:
        body["rules"] = _rules(rules)
    answer = _request(api, "POST", f"/v1/routes/{route}/policy/dry-run", body)
    print(json.dumps(answer, indent=2))
    if answer["decision"]["verdict"] != "pass":
        raise typer.Exit(code=1)


__all__ = ["policy_app"]
