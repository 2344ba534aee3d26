"""RFC 9457 problem+json for every error the API returns.

The ``type`` of a problem is derived from the error's stable ``code`` in
``core.errors``, so clients can switch on it across releases. Unexpected
exceptions become a generic 500 problem and are logged server-side only:
their text may hold internals (or secrets) that must not reach a caller.

The API's own error classes (authentication, equivocation, not implemented)
extend the ``core.errors`` tree here, so ``all_error_classes()`` and the
problem table in ``docs/api.md`` cover them too.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import Conflict, InvalidInput, PjgwError, RateLimited, all_error_classes
from core.problem import PROBLEM_MEDIA_TYPE, problem_type
from gateway.routes import allowed_methods

log = logging.getLogger("pjgw.api")
HTLC_DETAILS = ("t1", "t2", "delta", "min_t1", "max_t2", "min_t2", "max_seconds", "left", "needed")
"""Numeric details of ``proofs.htlc.errors`` a problem carries, so a client can fix its terms."""


class Unauthorized(PjgwError):
    """No API key, or one the hub does not know."""

    code = "unauthorized"
    http_status = 401


class Forbidden(PjgwError):
    """The API key's role may not call this endpoint."""

    code = "forbidden"
    http_status = 403


class Equivocation(Conflict):
    """A notary signed two different digests for one packet; the evidence is stored."""

    code = "equivocation"


class NotImplementedYet(PjgwError):
    """The hub does not support this combination yet."""

    code = "not-implemented"
    http_status = 501


class StreamsExhausted(PjgwError):
    """Every event-stream slot of the hub is taken; ``Retry-After`` says when to retry."""

    code = "streams-exhausted"
    retryable = True
    http_status = 503


class NotReady(PjgwError):
    """A dependency of the hub (store, a chain) is not reachable."""

    code = "not-ready"
    retryable = True
    http_status = 503


def problem_table() -> list[tuple[str, int, str]]:
    """``(type URI, HTTP status, class name)`` for every error class, root first."""
    return [(problem_type(c.code), c.http_status, c.__name__) for c in all_error_classes()]


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    instance: str,
    *,
    headers: dict[str, str] | None = None,
    **extra: object,
) -> JSONResponse:
    body = {
        "type": problem_type(code),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _extra_of(exc: PjgwError) -> dict[str, object]:
    """Public details of an error: the field of an input error, an equivocation's id."""
    extra: dict[str, object] = {"retryable": exc.retryable}
    field = exc.details.get("field")
    if isinstance(exc, InvalidInput) and isinstance(field, str):
        extra["errors"] = [{"loc": ["body", field], "msg": exc.message}]
    failed = exc.details.get("failed")
    if isinstance(exc, NotReady) and isinstance(failed, list):
        extra["failed"] = failed
    evidence = exc.details.get("evidence_id")
    if isinstance(exc, Equivocation) and isinstance(evidence, int):
        extra["evidence_id"] = evidence
    if exc.code.startswith("htlc-"):  # the numbers that broke a swap rule (never a preimage)
        for name in HTLC_DETAILS:
            value = exc.details.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                extra[name] = value
    return extra


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error path of the app through problem+json."""

    @app.exception_handler(PjgwError)
    async def _pjgw(request: Request, exc: PjgwError) -> JSONResponse:
        headers = (
            {"WWW-Authenticate": 'ApiKey header="X-API-Key"'} if exc.http_status == 401 else {}
        )
        retry_after = exc.details.get("retry_after")
        if isinstance(retry_after, int):
            headers["Retry-After"] = str(retry_after)
        return problem_response(
            exc.http_status,
            exc.code,
            type(exc).__name__,
            exc.message,
            request.url.path,
            headers=headers,
            **_extra_of(exc),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # ``input`` is left out: it may be a key or a signed transaction.
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg", "")} for e in exc.errors()]
        return problem_response(
            422,
            "invalid-input",
            "InvalidInput",
            "request failed validation",
            request.url.path,
            errors=errors,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {
            404: "not-found",
            405: "method-not-allowed",
            401: "unauthorized",
            403: "forbidden",
        }.get(exc.status_code, f"http-{exc.status_code}")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # every method of the path, not just one route's (RFC 9110)
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
        return problem_response(
            exc.status_code, code, code, str(exc.detail), request.url.path, headers=headers
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem_response(
            500, "internal", "Internal", "internal error (logged by the hub)", request.url.path
        )


__all__ = ["RateLimited"]  # re-exported: core.errors holds it (the servers refuse with it)
