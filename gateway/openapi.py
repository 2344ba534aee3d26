"""The OpenAPI document of the hub, completed with what FastAPI cannot infer.

FastAPI documents each operation's success and its request validation; the rest
of what the hub answers comes from elsewhere: problem+json errors raised in
handlers, the store and the adapters, refusals by the middlewares in front
(``core.http_limits``, ``gateway.ratelimit``), keys read by ``gateway.auth``.
``openapi_document`` adds them, so the served document (and ``docs/openapi.json``,
kept equal by a test) lists for every operation

* every status it can answer, each error as ``application/problem+json`` with
  the ``Problem`` schema (``Retry-After`` on 429 and 503, ``WWW-Authenticate``
  on 401);
* its security: ``ApiKey`` (``X-API-Key``) or ``Bearer``, required for mutating
  and notary calls, optional (``{}``) for reads unless ``require_read_key``;
* the alternative success status of idempotent creates (200 on a replay).

``STATUSES`` names the statuses particular to each operation; a test checks it
covers every route, and schemathesis that nothing else is ever answered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi

from adapters.registry import Registry
from core.errors import PjgwError
from core.problem import PROBLEM_MEDIA_TYPE
from gateway.auth import (
    admin_access,
    client_access,
    notary_access,
    read_access,
    supervisor_access,
)
from gateway.routers.chains import settings_model
from gateway.routes import api_routes
from gateway.settings import Settings

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `type` is https://pujiang.dev/problems/<code>.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
        "retryable": {"type": "boolean"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"loc": {"type": "array"}, "msg": {"type": "string"}},
            },
        },
    },
}

SECURITY_SCHEMES: dict[str, Any] = {
    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "Bearer": {"type": "http", "scheme": "bearer"},
}
KEYED = [{"ApiKey": []}, {"Bearer": []}]

REASONS = {
    400: "Malformed request (a body that is not UTF-8 JSON)",
    401: "No API key, or an unknown one",
    403: "The key's role may not call this",
    404: "Not found",
    408: "The request head or body did not arrive in time",
    409: "Conflict with the current state",
    413: "The body exceeds this route's bound",
    414: "The request target exceeds its bound",
    422: "Invalid input",
    429: "Rate limited",
    431: "The request headers exceed their bound",
    500: "Internal error (logged, never detailed)",
    501: "Not supported by this hub yet",
    502: "A chain refused or answered badly",
    503: "A dependency (store, chain) is unavailable, or every stream slot is taken",
}

COMMON = frozenset({408, 414, 422, 429, 431, 500, 503})
"""What any operation may answer: the input bounds, the rate limits, a store outage."""
WITH_BODY = frozenset({400, 413})

STATUSES: dict[tuple[str, str], frozenset[int]] = {
    ("GET", "/healthz"): frozenset(),
    ("GET", "/readyz"): frozenset(),
    ("GET", "/v1/info"): frozenset(),
    ("POST", "/v1/transfers"): frozenset({404, 409, 501, 502}),
    ("GET", "/v1/transfers"): frozenset(),
    ("GET", "/v1/transfers/{transfer_id}"): frozenset({404}),
    ("GET", "/v1/transfers/{transfer_id}/events"): frozenset({404}),
    ("POST", "/v1/swaps"): frozenset({404, 409, 501, 502}),
    ("GET", "/v1/swaps"): frozenset(),
    ("POST", "/v1/swaps/{swap_id}/claim"): frozenset({404, 409}),
    ("GET", "/v1/swaps/{swap_id}/leg2-check"): frozenset({404, 409, 502}),
    ("GET", "/v1/swaps/{swap_id}"): frozenset({404}),
    ("GET", "/v1/swaps/{swap_id}/events"): frozenset({404}),
    ("GET", "/v1/chains"): frozenset(),
    ("POST", "/v1/chains"): frozenset(),
    ("GET", "/v1/chains/{chain_id}/client"): frozenset({404}),
    ("GET", "/v1/routes"): frozenset(),
    ("POST", "/v1/routes"): frozenset({404}),
    ("GET", "/v1/notary/requests"): frozenset(),
    ("POST", "/v1/notary/attestations"): frozenset({404, 409}),
    ("GET", "/v1/audit"): frozenset(),
    ("GET", "/v1/audit/head"): frozenset(),
    ("GET", "/v1/audit/checkpoints"): frozenset(),
    ("POST", "/v1/audit/checkpoints"): frozenset({409, 501}),
    ("POST", "/v1/audit/checkpoints/{seq}/anchor"): frozenset({404, 502}),
    ("POST", "/v1/routes/{route_id}/pause"): frozenset({404}),
    ("POST", "/v1/routes/{route_id}/resume"): frozenset({404, 409}),
    ("POST", "/v1/transfers/{transfer_id}/retry"): frozenset({404, 409}),
    ("POST", "/v1/transfers/{transfer_id}/reject"): frozenset({404, 409}),
    ("POST", "/v1/transfers/{transfer_id}/refund"): frozenset({404, 409}),
    ("POST", "/v1/chains/{chain_id}/cursor/rewind"): frozenset({404}),
    ("POST", "/v1/chains/{chain_id}/client/unfreeze"): frozenset({404, 409, 502}),
    ("GET", "/v1/evidence/equivocations"): frozenset(),
    ("GET", "/v1/notary/batches"): frozenset(),
    ("POST", "/v1/notary/batch-attestations"): frozenset({404, 409}),
    ("POST", "/v1/committee/rotations"): frozenset({404, 409, 502}),
    ("GET", "/v1/committee/rotations"): frozenset(),
    ("GET", "/v1/committee/status"): frozenset(),
    ("GET", "/v1/notary/rotations"): frozenset(),
    ("POST", "/v1/notary/rotations/{rotation_id}/signatures"): frozenset({404}),
    ("GET", "/v1/risk"): frozenset(),
    ("PUT", "/v1/risk/limits"): frozenset(),
    ("DELETE", "/v1/risk/limits"): frozenset({404}),
    ("POST", "/v1/risk/held/{transfer_id}/release"): frozenset({404, 409}),
    ("POST", "/v1/risk/held/{transfer_id}/reject"): frozenset({404, 409}),
    ("POST", "/v1/transfers/{transfer_id}/cancel"): frozenset({404, 409}),
    ("GET", "/v1/routes/{route_id}/policy"): frozenset({404}),
    ("PUT", "/v1/routes/{route_id}/policy"): frozenset({404, 409}),
    ("POST", "/v1/routes/{route_id}/policy/dry-run"): frozenset({404}),
}
"""Statuses particular to each operation, beyond ``COMMON`` and those of its key and body."""

REPLAYED = frozenset(
    {
        ("POST", "/v1/transfers"),
        ("POST", "/v1/swaps"),
        ("POST", "/v1/chains"),
        ("POST", "/v1/routes"),
    }
)
"""Creates that answer 200 (not 201) when the request repeats (idempotency) or updates."""


def _auth_of(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call in (
            read_access,
            client_access,
            admin_access,
            notary_access,
            supervisor_access,
        ):
            yield sub.call
        yield from _auth_of(sub)


def _problem(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": REASONS[status],
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if status in (429, 503):
        answer["headers"] = {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}
    if status == 401:
        answer["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return answer


def _complete(operation: dict[str, Any], route: Any, method: str, settings: Settings) -> None:
    key = (method, route.path_format)
    statuses = set(COMMON | STATUSES[key])
    if "requestBody" in operation:
        statuses |= WITH_BODY
    auth = set(_auth_of(route.dependant))
    if auth - {read_access}:
        statuses |= {401, 403}
        operation["security"] = KEYED
    elif auth:
        if settings.require_read_key:
            statuses.add(401)
            operation["security"] = KEYED
        else:
            statuses.add(401)  # a key presented but unknown is still refused
            operation["security"] = [{}, *KEYED]
    else:
        operation["security"] = []
    responses = operation["responses"]
    if key in REPLAYED:
        created = next(code for code in responses if code.startswith("2"))
        responses.setdefault("200", {**responses[created], "description": "Replayed or updated"})
    if key == ("POST", "/v1/transfers"):  # over a risk limit: created, and held
        responses.setdefault(
            "202", {**responses["201"], "description": "Created and held by a risk rule"}
        )
    for status in sorted(statuses):
        responses[str(status)] = _problem(status)


def _chain_settings_by_family(schemas: dict[str, Any], registry: Registry) -> None:
    """``ChainIn``: ``family`` one of the installed families, ``settings`` that family's model
    (what ``POST /v1/chains`` validates them with), one ``oneOf`` branch per family."""
    branches = []
    for family in sorted(registry.adapters):
        try:
            model = settings_model(registry, family)
        except PjgwError:  # a family without a settings model takes any object, as the handler
            branches.append({"properties": {"family": {"const": family}}})
            continue
        found = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(found.pop("$defs", {}))
        schemas[model.__name__] = found
        ref = {"$ref": f"#/components/schemas/{model.__name__}"}
        branch: dict[str, Any] = {"properties": {"family": {"const": family}, "settings": ref}}
        if found.get("required"):  # then an absent settings ({}) is refused too
            branch["required"] = ["settings"]
        branches.append(branch)
    chain_in = schemas["ChainIn"]
    chain_in["properties"]["family"]["enum"] = sorted(registry.adapters)
    chain_in["oneOf"] = branches


def openapi_document(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """The app's OpenAPI, completed (cached on the app as FastAPI does)."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    document = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
    )
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = SECURITY_SCHEMES
    for route in api_routes(app):
        for method in route.methods:
            operation = document["paths"][route.path_format][method.lower()]
            _complete(operation, route, method, settings)
    _chain_settings_by_family(schemas, app.state.get_registry())
    app.openapi_schema = document
    return document


def install_openapi(app: FastAPI, settings: Settings) -> None:
    app.openapi = lambda: openapi_document(app, settings)  # type: ignore[method-assign]


__all__ = ["STATUSES", "install_openapi", "openapi_document"]


def main() -> None:
    """``python -m gateway.openapi > docs/openapi.json``: the document a default hub serves."""
    import json
    import tempfile
    from pathlib import Path

    from gateway.app import create_app

    with tempfile.TemporaryDirectory() as folder:
        app = create_app(Settings(data_dir=Path(folder)))
        print(json.dumps(app.openapi(), indent=2))


if __name__ == "__main__":
    main()
