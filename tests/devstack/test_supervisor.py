"""``devtools.supervisor`` with real (tiny) child processes: failure reports and group stops.

The children are ``python -c`` one-liners: cheap, but real processes in their
own process groups, so what is checked is what ``pjgw dev up`` relies on.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from devtools.supervisor import ChildSpec, ProcessFailed, Supervisor, log_contains

SLEEPER = "import time; print('up', flush=True); time.sleep(600)"
# Ignores SIGTERM and starts a grandchild in its group: only SIGKILL of the group ends both.
STUBBORN = (
    "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
    "print('grandchild', p.pid, flush=True); time.sleep(600)"
)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"  # reaped later by init


def test_a_child_that_exits_on_its_own_is_reported_with_the_tail_of_its_log(
    tmp_path: Path,
) -> None:
    with Supervisor(tmp_path, grace=2) as sup:
        sup.start_healthy(
            ChildSpec("steady", [sys.executable, "-c", SLEEPER], health=log_contains("up"))
        )
        sup.start(
            ChildSpec(
                "crashy", [sys.executable, "-c", "print('boom: no config'); raise SystemExit(3)"]
            )
        )
        deadline = time.monotonic() + 20
        while (failed := sup.failed()) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert failed is not None
        assert failed.name == "crashy"
        report = sup.describe_exit(failed)
        assert "crashy exited with code 3" in report
        assert "boom: no config" in report
        with pytest.raises(ProcessFailed, match="boom"):
            sup.wait_healthy("crashy")
        steady = sup.children["steady"].pid
    assert _gone(steady)


def test_stop_escalates_to_sigkill_of_the_whole_process_group(tmp_path: Path) -> None:
    sup = Supervisor(tmp_path, grace=0.5)
    try:
        child = sup.start_healthy(
            ChildSpec(
                "stubborn", [sys.executable, "-c", STUBBORN], health=log_contains("grandchild")
            )
        )
        grandchild = int(child.log().split("grandchild")[1].split()[0])
        code = sup.stop("stubborn")
        assert code == -9  # SIGTERM was ignored, so the grace ran out
        deadline = time.monotonic() + 5
        while not _gone(grandchild) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(child.pid)
        assert _gone(grandchild)
        assert sup.failed() is None  # a stop we asked for is not a failure
    finally:
        sup.stop_all(grace=0.1)
