"""RFC 9457 problem+json for every error the API returns.

The ``type`` of a problem is derived from the error's stable ``code`` in
``core.errors``, so clients can switch on it across releases. Unexpected
exceptions become a generic 500 problem and are logged server-side only:
their text may hold internals (or secrets) that must not reach a caller.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import PjgwError

PROBLEM_BASE = "https://pujiang.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("pjgw.api")


def problem_type(code: str) -> str:
    return PROBLEM_BASE + code


def problem_response(
    status: int, code: str, title: str, detail: str, instance: str, **extra: object
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
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def install_problem_handlers(app: FastAPI) -> None:
    """Route every error path of the app through problem+json."""

    @app.exception_handler(PjgwError)
    async def _pjgw(request: Request, exc: PjgwError) -> JSONResponse:
        return problem_response(
            exc.http_status,
            exc.code,
            type(exc).__name__,
            exc.message,
            request.url.path,
            retryable=exc.retryable,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
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
        return problem_response(exc.status_code, code, code, str(exc.detail), request.url.path)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem_response(
            500, "internal", "Internal", "internal error (logged by the hub)", request.url.path
        )
