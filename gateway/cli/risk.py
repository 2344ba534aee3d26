"""``pjgw risk`` and the held-transfer ``pjgw ops`` commands: risk limits and decisions, through
the API (so every change is audited under the key in ``PJGW_API_KEY``).

``pjgw risk show`` (supervisor or admin) prints the limits, their windows' usage and the
held queue; ``pjgw risk set`` / ``unset`` (admin) write and remove a route's limits for a
denomination. ``pjgw ops release`` / ``reject-held`` (supervisor or admin) decide a held
transfer; ``pjgw ops cancel`` (the client key that created it) cancels it.
``docs/supervision.md``.
"""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.markup import escape

from gateway.cli.audit import ops_app

risk_app = typer.Typer(help="Risk limits and the held queue, through the API (audited).")
console = Console()

Api = Annotated[str, typer.Option(envvar="PJGW_API_URL", help="The hub's API")]
Reason = Annotated[str, typer.Option(help="Why (kept in the audit log)")]
DEFAULT_API = "http://127.0.0.1:8080"


def client_for(api: str) -> httpx.Client:
    """The HTTP client of every command (a test hands in one over the app itself)."""
    return httpx.Client(base_url=api.rstrip("/"), timeout=30.0)


def _call(api: str, method: str, path: str, **kwargs: Any) -> Any:
    key = os.environ.get("PJGW_API_KEY")
    if not key:
        console.print("[red]error[/] set PJGW_API_KEY to the API key to act as")
        raise typer.Exit(code=2)
    with client_for(api) as client:
        response = client.request(method, path, headers={"X-API-Key": key}, **kwargs)
    if response.status_code >= 400:
        console.print(f"[red]{response.status_code}[/] {escape(response.text)}")
        raise typer.Exit(code=1)
    return None if response.status_code == 204 else response.json()


@risk_app.command("show")
def show(
    api: Api = DEFAULT_API,
    held_limit: Annotated[int, typer.Option(help="Held transfers per page")] = 50,
    cursor: Annotated[str | None, typer.Option(help="next_cursor of a previous page")] = None,
) -> None:
    """The limits, what their windows hold now, and the held queue (supervisor or admin)."""
    params: dict[str, Any] = {"held_limit": held_limit}
    if cursor:
        params["held_cursor"] = cursor
    print(json.dumps(_call(api, "GET", "/v1/risk", params=params), indent=2))


@risk_app.command("set")
def set_limit(
    route: Annotated[str, typer.Option(help="The route")],
    denom: Annotated[str, typer.Option(help="The denomination, or * for all of the route's")],
    max_amount: Annotated[str | None, typer.Option(help="Per-transfer maximum")] = None,
    over_max: Annotated[str, typer.Option(help="reject | hold (for review)")] = "hold",
    window: Annotated[int | None, typer.Option(help="Rolling window length, seconds")] = None,
    window_amount: Annotated[str | None, typer.Option(help="Value per window")] = None,
    rate: Annotated[int | None, typer.Option(help="Transfers per minute")] = None,
    delay_threshold: Annotated[str | None, typer.Option(help="Delay from this amount")] = None,
    delay: Annotated[int | None, typer.Option(help="Delay, seconds")] = None,
    api: Api = DEFAULT_API,
) -> None:
    """Create or replace a route's limits for a denomination (admin); refused with the bad
    field named."""
    body: dict[str, Any] = {"route_id": route, "denom": denom, "over_max": over_max}
    if max_amount is not None:
        body["max_amount"] = max_amount
    if window is not None or window_amount is not None:
        body["window"] = {"seconds": window, "amount": window_amount}
    if rate is not None:
        body["rate_per_minute"] = rate
    if delay is not None or delay_threshold is not None:
        body["delay"] = {"threshold": delay_threshold, "seconds": delay}
    print(json.dumps(_call(api, "PUT", "/v1/risk/limits", json=body), indent=2))


@risk_app.command("unset")
def unset_limit(
    route: Annotated[str, typer.Option(help="The route")],
    denom: Annotated[str, typer.Option(help="The denomination, or *")],
    api: Api = DEFAULT_API,
) -> None:
    """Remove a route's limits for a denomination (admin)."""
    _call(api, "DELETE", "/v1/risk/limits", params={"route_id": route, "denom": denom})
    console.print(f"[green]ok[/] no more limits on {escape(route)} / {escape(denom)}")


@ops_app.command()
def release(transfer: str, reason: Reason, api: Api = DEFAULT_API) -> None:
    """Release a held transfer now (supervisor or admin)."""
    out = _call(api, "POST", f"/v1/risk/held/{transfer}/release", json={"reason": reason})
    print(json.dumps(out, indent=2))


@ops_app.command("reject-held")
def reject_held(transfer: str, reason: Reason, api: Api = DEFAULT_API) -> None:
    """Reject a held transfer (supervisor or admin): refunded once its timeout passes when it
    already left the source."""
    out = _call(api, "POST", f"/v1/risk/held/{transfer}/reject", json={"reason": reason})
    print(json.dumps(out, indent=2))


@ops_app.command()
def cancel(transfer: str, reason: Reason, api: Api = DEFAULT_API) -> None:
    """Cancel a held transfer you created (the client key that created it)."""
    out = _call(api, "POST", f"/v1/transfers/{transfer}/cancel", json={"reason": reason})
    print(json.dumps(out, indent=2))


__all__ = ["client_for", "risk_app"]
