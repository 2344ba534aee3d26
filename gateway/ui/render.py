"""Rendering the dashboard: one Jinja2 environment (autoescape on for every template),
the filters the pages share, and the headers every page carries.

SECURITY: autoescape is on for every template, whatever its name, so a memo,
an address or a reason holding ``<script>`` is shown as text. The
Content-Security-Policy allows scripts and styles from the hub itself only (no
inline script, no inline style, no other origin), forms posting to the hub only,
and no framing.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from core.states import TERMINAL_TRANSFER_STATES
from gateway.auth import Principal, Role
from gateway.sessions import session_of

TEMPLATES = Path(__file__).parent / "templates"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # a form post then carries its true Origin
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}


def when(seconds: float | None) -> str:
    """Unix seconds as UTC text (``-`` for none)."""
    if not seconds:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(seconds))


def duration(seconds: float | None) -> str:
    """A span in the largest sensible units: ``3d 4h``, ``5m 2s``, ``-`` for none."""
    if seconds is None:
        return "-"
    left = int(abs(seconds))
    sign = "-" if seconds < 0 else ""
    for size, unit, smaller, small_unit in (
        (86400, "d", 3600, "h"),
        (3600, "h", 60, "m"),
        (60, "m", 1, "s"),
    ):
        if left >= size:
            return f"{sign}{left // size}{unit} {(left % size) // smaller}{small_unit}"
    return f"{sign}{left}s"


def hexed(data: bytes | None, short: bool = False) -> str:
    if not data:
        return "-"
    text = "0x" + bytes(data).hex()
    return text[:10] + "…" + text[-6:] if short and len(text) > 20 else text


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=True,  # every template, whatever its extension
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENV.filters.update(when=when, duration=duration, hexed=hexed, pretty=pretty)
ENV.globals["terminal_states"] = sorted(s.value for s in TERMINAL_TRANSFER_STATES)


def page(
    request: Request,
    template: str,
    principal: Principal | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    """``template`` rendered for ``principal`` with the dashboard's headers."""
    session = session_of(request)
    body = ENV.get_template(template).render(
        request_path=request.url.path,
        principal=principal,
        is_admin=principal is not None and principal.role is Role.ADMIN,
        is_supervisor=principal is not None and principal.role in (Role.ADMIN, Role.SUPERVISOR),
        csrf=session.csrf if session is not None else "",
        now=request.app.state.clock(),
        **context,
    )
    return HTMLResponse(body, status_code=status_code, headers=HEADERS)


__all__ = ["CSP", "ENV", "HEADERS", "duration", "hexed", "page", "when"]
