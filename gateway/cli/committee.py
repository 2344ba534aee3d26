"""``pjgw committee``: rotate a route's notary committee through the hub's API (admin key in
``PJGW_API_KEY``; each request is audited under the key's name).

``rotate --route R --members 0x..,0x.. --threshold N [--dry-run]`` asks the hub to rotate
the committee of the route's destination bridge (``--side source`` for its source's) at
the chain's epoch + 1; with ``--dry-run`` nothing is stored: the statement, its signing
digest, the committee the chain trusts now and the in-flight certificates are printed.
``status`` prints each bridge's configured and live committee and its open rotation,
``list`` the latest rotations. ``docs/notary.md`` "Committee rotation" has the steps.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

committee_app = typer.Typer(help="Notary committee rotations driven by the hub (admin).")
console = Console(stderr=True)

Api = Annotated[str, typer.Option(envvar="PJGW_API_URL", help="The hub's API")]
DEFAULT_API = "http://127.0.0.1:8080"


def _request(api: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    import httpx

    key = os.environ.get("PJGW_API_KEY")
    if not key:
        console.print("[red]error[/] set PJGW_API_KEY to an admin key")
        raise typer.Exit(code=2)
    response = httpx.request(
        method, api.rstrip("/") + path, json=body, headers={"X-API-Key": key}, timeout=30.0
    )
    if response.status_code >= 400:
        console.print(f"[red]{response.status_code}[/] {escape(response.text)}")
        raise typer.Exit(code=1)
    return response.json()


@committee_app.command()
def rotate(
    route: Annotated[str, typer.Option(help="The route whose bridge rotates")],
    members: Annotated[str, typer.Option(help="New members: 0x addresses, comma-separated")],
    threshold: Annotated[int, typer.Option(help="Signatures the new committee needs")],
    side: Annotated[str, typer.Option(help="destination or source bridge")] = "destination",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan only")] = False,
    api: Api = DEFAULT_API,
) -> None:
    """Request (or with ``--dry-run`` only plan) a committee rotation."""
    body = {
        "route_id": route,
        "members": [m.strip() for m in members.split(",") if m.strip()],
        "threshold": threshold,
        "side": side,
        "dry_run": dry_run,
    }
    print(json.dumps(_request(api, "POST", "/v1/committee/rotations", body), indent=2))


@committee_app.command()
def status(api: Api = DEFAULT_API) -> None:
    """Each bridge's configured and live committee, and its open rotation."""
    print(json.dumps(_request(api, "GET", "/v1/committee/status"), indent=2))


@committee_app.command("list")
def list_rotations(api: Api = DEFAULT_API) -> None:
    """The latest rotations, newest first."""
    print(json.dumps(_request(api, "GET", "/v1/committee/rotations"), indent=2))


__all__ = ["committee_app"]
