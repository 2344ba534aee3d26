"""The app's routes as FastAPI includes them: for the OpenAPI completion and a 405's ``Allow``.

FastAPI keeps included routers as nested entries of ``app.routes``;
``fastapi.routing.iter_route_contexts`` yields each route with its full path.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, routing
from fastapi.routing import APIRoute
from starlette.routing import Match


def api_routes(app: FastAPI) -> Iterator[Any]:
    """The app's documented API routes, with their full paths (routers included)."""
    for context in routing.iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute) and context.include_in_schema:
            yield context


def allowed_methods(app: FastAPI, scope: Any) -> list[str]:
    """Every method some route serves at the path of ``scope`` (for a 405's ``Allow``)."""
    found: set[str] = set()
    for context in routing.iter_route_contexts(app.routes):
        methods = context.methods
        if methods and context.matches(scope)[0] is not Match.NONE:
            found |= methods
    return sorted(found)


__all__ = ["allowed_methods", "api_routes"]
