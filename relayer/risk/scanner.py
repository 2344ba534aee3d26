"""The external scanner hook of a payload policy: one command, the payload on its stdin.

The protocol (``docs/supervision.md`` "Payload policies"): the command is run
from its ``argv`` (never a shell; ``argv[0]`` an absolute path), in ``/``, with a
small environment of its own (``PATH``, ``LANG`` and the transfer's facts as
``PJGW_*`` variables: never the hub's environment, which holds keys), the
payload's bytes on stdin; exit 0 is "pass", exit 1 is "match" (the first line it
printed, cut to 120 printable characters, says why); anything else — another
exit code, a signal, no answer within ``timeout``, more than ``max_output`` bytes
printed, a command that cannot start — is an error, which the rule turns into
its ``on_error`` action. The command runs in its own process group, killed whole
at the deadline (a shell script's children too). Stderr is discarded.

Hand-written rather than ``subprocess.run``: ``run`` reads all output into
memory, and bounding it needs a read loop (``selectors``) that also feeds stdin
without blocking when the command does not read it.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

SCANNER_PATH = "/usr/local/bin:/usr/bin:/bin"
LABEL_CHARS = 120
_CHUNK = 65536
_POLL = 0.005

Outcome = Literal["pass", "match", "error"]


@dataclass(frozen=True, slots=True)
class ScanResult:
    """What the scanner said: ``outcome`` and, for people, ``detail`` (bounded, printable)."""

    outcome: Outcome
    detail: str = ""


def scanner_env(facts: Mapping[str, str]) -> dict[str, str]:
    """The whole environment a scanner gets: ``PATH``, ``LANG`` and ``PJGW_<FACT>`` variables."""
    env = {"PATH": SCANNER_PATH, "LANG": "C.UTF-8"}
    for key, value in facts.items():
        env[f"PJGW_{key.upper()}"] = "".join(c for c in value if c.isprintable())[:1024]
    return env


def run_scanner(
    argv: tuple[str, ...],
    payload: bytes,
    *,
    timeout: float,
    max_output: int,
    facts: Mapping[str, str] | None = None,
) -> ScanResult:
    """Run one scanner on ``payload`` (the module docstring's protocol); never raises."""
    try:
        process = subprocess.Popen(  # noqa: S603 - argv list, no shell: the policy's command
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd="/",
            env=scanner_env(facts or {}),
            start_new_session=True,
            close_fds=True,
        )
    except OSError as err:
        return ScanResult(
            "error", f"the scanner did not start ({err.strerror or type(err).__name__})"
        )
    try:
        output, why = _exchange(process, payload, time.monotonic() + timeout, max_output)
    finally:
        _kill_group(process)
    if why:
        return ScanResult("error", why)
    code = process.returncode
    if code == 0:
        return ScanResult("pass")
    if code == 1:
        return ScanResult("match", _label(output))
    if code is not None and code < 0:
        return ScanResult("error", f"the scanner was killed by signal {-code}")
    return ScanResult("error", f"the scanner exited with {code}")


def _exchange(
    process: subprocess.Popen[bytes], payload: bytes, deadline: float, max_output: int
) -> tuple[bytes, str]:
    """Feed stdin, read stdout up to ``max_output``, wait for the exit: ``(output, error)``."""
    if process.stdin is None or process.stdout is None:  # PIPE was asked for both
        return b"", "the scanner has no pipes"
    out = bytearray()
    sel = selectors.DefaultSelector()
    os.set_blocking(process.stdin.fileno(), False)
    pending = memoryview(payload)
    if pending:
        sel.register(process.stdin, selectors.EVENT_WRITE)
    else:
        process.stdin.close()
    sel.register(process.stdout, selectors.EVENT_READ)
    try:
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(out), "the scanner did not answer in time"
            for key, _ in sel.select(left):
                if key.fileobj is process.stdin:
                    try:
                        sent = os.write(process.stdin.fileno(), pending[:_CHUNK])
                    except BrokenPipeError:  # it stopped reading: its verdict still counts
                        sent = len(pending)
                    except BlockingIOError:
                        continue
                    pending = pending[sent:]
                    if not pending:
                        sel.unregister(process.stdin)
                        process.stdin.close()
                    continue
                chunk = os.read(process.stdout.fileno(), _CHUNK)
                if not chunk:
                    sel.unregister(process.stdout)
                    continue
                out += chunk
                if len(out) > max_output:
                    return bytes(out), f"the scanner printed more than {max_output} bytes"
        while not _exited(process.pid):  # not reaped: its pid keeps naming its group
            if time.monotonic() >= deadline:
                return bytes(out), "the scanner did not answer in time"
            time.sleep(_POLL)
        return bytes(out), ""
    finally:
        sel.close()
        if process.stdin and not process.stdin.closed:
            with contextlib.suppress(OSError):
                process.stdin.close()


def _exited(pid: int) -> bool:
    """Whether ``pid`` exited, leaving it a zombie (``WNOWAIT``: not reaped yet)."""
    found = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    return found is not None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """End the scanner's process group (it may have started children), then reap it.

    The leader is reaped only after the kill: until then its pid (the group's id)
    cannot be reused, so the kill never reaches another process."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # its own session: our child's group only
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _label(output: bytes) -> str:
    first = output.split(b"\n", 1)[0].decode("utf-8", errors="replace")
    return "".join(c for c in first if c.isprintable())[:LABEL_CHARS].strip()


__all__ = ["ScanResult", "run_scanner", "scanner_env"]
