"""The operator dashboard at ``/ui``: server-rendered pages (Jinja2) over the hub's store,
live updates from the API's own event streams (``static/live.js``).

``install(app)`` adds the pages (``pages.py``), the login (``access.py``) and the static
files; none of it is in the OpenAPI document. ``docs/operator-guide.md`` says what each
page shows and how a browser signs in.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from gateway.sessions import Sessions
from gateway.ui import access, pages

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI) -> None:
    settings = app.state.settings
    app.state.sessions = Sessions(settings.ui_session_secret, settings.ui_session_hours)
    access.install_handlers(app)
    app.include_router(access.router)
    app.include_router(pages.router)
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")


__all__ = ["install"]
