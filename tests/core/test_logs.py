"""``core.logs``: JSON lines with the context of the work in hand, and nothing else."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest

from core.logs import JsonFormatter, configure_logging, current_context, log_context, log_format


def _line(message: str, *args: object, exc: bool = False) -> dict[str, object]:
    record = logging.LogRecord("pjgw.test", logging.INFO, __file__, 1, message, args, None)
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            import sys

            record.exc_info = sys.exc_info()
    return json.loads(JsonFormatter().format(record))


def test_a_json_line_has_time_level_logger_message_and_only_the_context_in_force() -> None:
    assert set(_line("plain")) == {"ts", "level", "logger", "msg"}
    with log_context(transfer_id="t-1", route="r-1"), log_context(chain="c-1"):
        line = _line("moved %s", "x")
    assert line["msg"] == "moved x"
    assert (line["level"], line["logger"]) == ("info", "pjgw.test")
    assert (line["transfer_id"], line["route"], line["chain"]) == ("t-1", "r-1", "c-1")
    assert "request_id" not in line
    assert current_context() == {}


def test_an_exception_is_one_field_of_the_same_line() -> None:
    line = _line("failed", exc=True)
    assert "ValueError: boom" in str(line["exc"])


def test_concurrent_tasks_keep_their_own_context() -> None:
    async def step(transfer: str) -> dict[str, str]:
        with log_context(transfer_id=transfer):
            await asyncio.sleep(0)
            return current_context()

    async def both() -> list[dict[str, str]]:
        return list(await asyncio.gather(step("a"), step("b")))

    assert asyncio.run(both()) == [{"transfer_id": "a"}, {"transfer_id": "b"}]


def test_unknown_context_keys_and_formats_are_refused() -> None:
    with pytest.raises(ValueError, match="log context keys"), log_context(secret="x"):
        pass
    with pytest.raises(ValueError, match="PJGW_LOG_FORMAT"):
        log_format("yaml")


def test_configure_logging_installs_one_json_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    monkeypatch.setenv("PJGW_LOG_FORMAT", "json")
    try:
        configure_logging("warning")
        (handler,) = root.handlers
        assert isinstance(handler.formatter, JsonFormatter)
        assert root.level == logging.WARNING
    finally:
        root.handlers[:] = saved
        root.setLevel(level)
