"""The RFC 9457 problem document of a ``PjgwError``, shared by every HTTP server.

The hub (``gateway.problems``), the devnet node (``devnet.problems``) and the
input bounds in front of both (``core.http_limits``) answer errors in one
shape, ``type`` derived from the error's stable ``code``; the constants live
here so the three cannot drift apart.
"""

from __future__ import annotations

from core.errors import PjgwError

PROBLEM_BASE = "https://pujiang.dev/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


def problem_type(code: str) -> str:
    """The stable ``type`` URI of an error code."""
    return PROBLEM_BASE + code


def problem_document(exc: PjgwError, instance: str) -> dict[str, object]:
    """``{type, title, status, detail, instance, code, retryable}`` of ``exc`` (no details:
    they may hold input a caller should not see echoed)."""
    return {
        "type": problem_type(exc.code),
        "title": type(exc).__name__,
        "status": exc.http_status,
        "detail": exc.message,
        "instance": instance,
        "code": exc.code,
        "retryable": exc.retryable,
    }
