"""Log set-up for every process of the project: plain text or JSON lines, with context.

``PJGW_LOG_FORMAT=json`` makes every line one JSON object (``ts``, ``level``,
``logger``, ``msg``, and ``exc`` when an exception is logged), carrying the
context of the work in hand: ``transfer_id``, ``route``, ``chain`` and
``request_id``, each set with :func:`log_context` (``contextvars``, so
concurrent asyncio tasks and the store's threads each keep their own) and
left out while unknown. Plain text stays the default for a terminal.

Hand-written over ``python-json-logger``: the formatter is twenty lines of
``json.dumps`` and ``core`` imports nothing outside the standard library (the
devnet node, which may import only ``core`` and ``proofs``, uses it too).

SECURITY: only the record's message and the context fields are written,
never the record's ``args`` separately or any extra attribute, so a secret
can reach a log only if a message itself formats it (the tests grep every
line of a real run for the keys it used).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

FIELDS = ("transfer_id", "route", "chain", "request_id")
"""The context keys a JSON line may carry (nothing else is ever added)."""
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"

_CONTEXT: contextvars.ContextVar[tuple[tuple[str, str], ...]] = contextvars.ContextVar(
    "pjgw_log_context", default=()
)


@contextlib.contextmanager
def log_context(**fields: object) -> Iterator[None]:
    """Add ``fields`` (some of :data:`FIELDS`; ``None`` values skipped) to the log lines
    written inside the block, in this task or thread only."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise ValueError(f"log context keys are {FIELDS}, not {sorted(unknown)}")
    merged = {**dict(_CONTEXT.get()), **{k: str(v) for k, v in fields.items() if v is not None}}
    token = _CONTEXT.set(tuple(merged.items()))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def current_context() -> dict[str, str]:
    """The context fields in force here (a copy)."""
    return dict(_CONTEXT.get())


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, context, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **dict(_CONTEXT.get()),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_format(value: str | None = None) -> str:
    """``value``, else ``PJGW_LOG_FORMAT``, else ``text``; ``ValueError`` on another name."""
    chosen = (value or os.environ.get("PJGW_LOG_FORMAT") or "text").lower()
    if chosen not in FORMATS:
        raise ValueError(f"PJGW_LOG_FORMAT must be one of {FORMATS}, not {chosen!r}")
    return chosen


def configure_logging(level: str | int = "INFO", fmt: str | None = None) -> None:
    """Replace the root logger's handlers with one stderr handler in the chosen format.

    Uvicorn's own loggers propagate to the root here, so their lines are JSON too.
    """
    handler = logging.StreamHandler(sys.stderr)
    if log_format(fmt) == "json":
        handler.setFormatter(JsonFormatter())
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
            logging.getLogger(name).handlers.clear()
            logging.getLogger(name).propagate = True
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if isinstance(level, str) else level)


__all__ = [
    "FIELDS",
    "FORMATS",
    "JsonFormatter",
    "configure_logging",
    "current_context",
    "log_context",
    "log_format",
]
