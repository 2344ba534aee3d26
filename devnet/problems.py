"""RFC 9457 problem+json for the devnet node's API.

The same shape as the hub's own errors (``type`` derived from the stable
``core.errors`` code, plus ``code`` and ``retryable``), written here because
the devnet may import only ``core`` and ``proofs``. A refused transaction
adds its ``reason`` code (``devnet.txs.Reason``). Unexpected exceptions become
a bare 500: their text stays in the node's log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import PjgwError
from core.problem import PROBLEM_BASE, PROBLEM_MEDIA_TYPE
from devnet.txs import TxRejected, core_error

log = logging.getLogger("pjgw.devnet.api")


def problem(
    status: int,
    code: str,
    detail: str,
    instance: str,
    headers: Mapping[str, str] | None = None,
    **extra: object,
) -> JSONResponse:
    body = {
        "type": PROBLEM_BASE + code,
        "title": code,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        **extra,
    }
    return JSONResponse(
        body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=dict(headers or {})
    )


def error_document(exc: PjgwError, instance: str) -> dict[str, object]:
    """The problem body of ``exc``: also each refused entry of a batch ``POST /v1/txs``."""
    return {
        "type": PROBLEM_BASE + exc.code,
        "title": exc.code,
        "status": exc.http_status,
        "detail": exc.message,
        "instance": instance,
        "code": exc.code,
        "retryable": exc.retryable,
        **{k: v for k, v in exc.details.items() if isinstance(v, str | int)},
    }


def error_response(exc: PjgwError, instance: str) -> JSONResponse:
    body = error_document(exc, instance)
    return JSONResponse(body, status_code=exc.http_status, media_type=PROBLEM_MEDIA_TYPE)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(PjgwError)
    async def _pjgw(request: Request, exc: PjgwError) -> JSONResponse:
        return error_response(exc, request.url.path)

    @app.exception_handler(TxRejected)
    async def _rejected(request: Request, exc: TxRejected) -> JSONResponse:
        return error_response(core_error(exc), request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg", "")}
            for e in exc.errors()
        ]
        return problem(422, "invalid-input", "request failed validation", request.url.path,
                       errors=errors)  # fmt: skip

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(
            exc.status_code, f"http-{exc.status_code}"
        )
        # 405 keeps Starlette's ``Allow`` header (RFC 9110)
        return problem(exc.status_code, code, str(exc.detail), request.url.path, exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return problem(500, "internal", "internal error (logged by the node)", request.url.path)
