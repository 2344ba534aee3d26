"""Child-process supervision for ``pjgw dev up`` and for tests that run real processes.

A ``Supervisor`` starts named children (``ChildSpec``: a command, its
environment and a health check), each with its output in its own log file,
and can wait until one is healthy, stop, kill or restart it by name, notice
one that died on its own (with the tail of its log), and stop them all in the
reverse order of their start.

Why these choices:

* each child runs in its own session (``start_new_session``), so a Ctrl-C in
  the terminal reaches only the supervisor, which then stops the children in
  order (notaries before the hub, the hub before the chains) instead of every
  process racing to exit at once; signals go to the child's whole process
  group, so a child's own helpers go too;
* on Linux each child also gets ``PR_SET_PDEATHSIG`` (SIGTERM): if the
  supervisor itself is SIGKILLed its children do not outlive it;
* stop is SIGTERM, then SIGKILL after a grace period: every child of the dev
  stack (anvil, the devnet, uvicorn, the notary loop) exits cleanly on
  SIGTERM, and a stuck one must not keep its port.

Written here rather than taken from a library (supervisord, honcho,
circus): those are daemons or CLIs with their own configuration, not a small
in-process API a test can call ``kill("hub")`` / ``restart("hub")`` on.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from core.errors import PjgwError

HealthCheck = Callable[["Child"], bool]
_PR_SET_PDEATHSIG = 1


class ProcessFailed(PjgwError):
    """A supervised child exited on its own or did not become healthy in time."""

    code = "process-failed"


@dataclass(frozen=True)
class ChildSpec:
    """How to start one child. ``health`` answers "is it serving?" (default: it runs)."""

    name: str
    command: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold secrets
    cwd: Path | None = None
    health: HealthCheck | None = None
    ready_timeout: float = 60.0


class Child:
    """One started child: its process, log file and spec."""

    def __init__(self, spec: ChildSpec, process: subprocess.Popen[bytes], log_path: Path) -> None:
        self.spec = spec
        self.process = process
        self.log_path = log_path
        self.stopping = False  # set before a stop we asked for: its exit is not a failure

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def healthy(self) -> bool:
        if not self.alive():
            return False
        check = self.spec.health
        if check is None:
            return True
        try:
            return check(self)
        except Exception:  # a probe that raises means "not yet"
            return False


def http_ok(url: str, timeout: float = 2.0) -> HealthCheck:
    """Healthy once ``GET url`` answers 200."""

    def check(_: Child) -> bool:
        return httpx.get(url, timeout=timeout).status_code == 200

    return check


def log_contains(text: str) -> HealthCheck:
    """Healthy once the child's log holds ``text`` (for children without an endpoint)."""

    def check(child: Child) -> bool:
        return text in child.log()

    return check


def _die_with_parent() -> None:  # pragma: no cover - runs in the forked child
    """Linux: the kernel sends SIGTERM to this child when the supervisor dies."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class Supervisor:
    """Named children with their logs under ``log_dir``; a context manager that stops all.

    CONTRACT: one supervisor per thread of control; ``stop_all()`` (or leaving
    the ``with`` block) must run, also on failure, or the children keep running.
    """

    def __init__(self, log_dir: Path, *, grace: float = 10.0) -> None:
        self.log_dir = Path(log_dir)
        self.grace = grace
        self.children: dict[str, Child] = {}
        self._order: list[str] = []

    # --- starting -------------------------------------------------------------------------

    def start(self, spec: ChildSpec) -> Child:
        """Start ``spec`` (not running already); its output appends to ``<log_dir>/<name>.log``."""
        existing = self.children.get(spec.name)
        if existing is not None and existing.alive():
            raise ProcessFailed(f"{spec.name} is running already (pid {existing.pid})")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{spec.name}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **spec.env}
        with log_path.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - commands built by the caller, no shell
                list(spec.command),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=spec.cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        child = Child(spec, process, log_path)
        self.children[spec.name] = child
        if spec.name in self._order:
            self._order.remove(spec.name)
        self._order.append(spec.name)
        return child

    def wait_healthy(self, name: str, timeout: float | None = None) -> Child:
        """Block until ``name`` passes its health check; ``ProcessFailed`` if it exits first."""
        child = self.children[name]
        deadline = time.monotonic() + (timeout or child.spec.ready_timeout)
        while time.monotonic() < deadline:
            if not child.alive():
                raise ProcessFailed(self.describe_exit(child))
            if child.healthy():
                return child
            time.sleep(0.1)
        raise ProcessFailed(
            f"{name} was not healthy within {timeout or child.spec.ready_timeout:g} s; "
            f"its log ({child.log_path}) ends:\n{child.tail()}"
        )

    def start_healthy(self, spec: ChildSpec) -> Child:
        self.start(spec)
        return self.wait_healthy(spec.name)

    # --- stopping -------------------------------------------------------------------------

    def stop(self, name: str, grace: float | None = None) -> int | None:
        """SIGTERM to the child's process group, SIGKILL after ``grace`` s; its exit code."""
        child = self.children[name]
        child.stopping = True
        if child.alive():
            self._signal(child, signal.SIGTERM)
            try:
                child.process.wait(self.grace if grace is None else grace)
            except subprocess.TimeoutExpired:
                self._signal(child, signal.SIGKILL)
                child.process.wait(10)
        # The group may outlive its leader (a helper it started): end the stragglers too.
        self._signal(child, signal.SIGKILL)
        return child.process.returncode

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send ``sig`` to the child's group without waiting (crash tests)."""
        child = self.children[name]
        child.stopping = True
        self._signal(child, sig)
        if sig in (signal.SIGKILL, signal.SIGTERM):
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(self.grace)

    def restart(self, name: str, *, wait: bool = True) -> Child:
        """Stop ``name`` (if running) and start it again with the same spec."""
        spec = self.children[name].spec
        self.stop(name)
        self.start(spec)
        return self.wait_healthy(name) if wait else self.children[name]

    def stop_all(self, grace: float | None = None) -> None:
        """Stop every child, the last started first."""
        for name in reversed(self._order):
            with contextlib.suppress(Exception):
                self.stop(name, grace)

    @staticmethod
    def _signal(child: Child, sig: signal.Signals) -> None:
        # The child leads its own session, so its pid is its process group id.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)

    # --- watching -------------------------------------------------------------------------

    def failed(self) -> Child | None:
        """The first child that exited without being asked to, or None."""
        for name in self._order:
            child = self.children[name]
            if not child.stopping and not child.alive():
                return child
        return None

    def describe_exit(self, child: Child) -> str:
        code = child.process.returncode
        how = f"signal {-code}" if code is not None and code < 0 else f"code {code}"
        return f"{child.name} exited with {how}; its log ({child.log_path}) ends:\n{child.tail()}"

    def pids(self) -> dict[str, int]:
        return {name: self.children[name].pid for name in self._order}

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_all()


__all__ = [
    "Child",
    "ChildSpec",
    "HealthCheck",
    "ProcessFailed",
    "Supervisor",
    "http_ok",
    "log_contains",
]
