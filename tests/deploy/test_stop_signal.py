"""``pjgw notary run`` stops on SIGTERM, as ``docker stop`` / ``docker-compose down`` ask.

The command is compose's own ``notary-0`` command, run here with local paths.

A container's PID 1 gets no default signal action: a process that installs no SIGTERM
handler ignores ``docker stop`` and is killed after the timeout (exit 137), its signed
log and adapters never closed. ``make docker-test`` found exactly that for the three
notaries; the hub, ``pjgw relay`` and the devnet already handled it.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.deploy.files import CHAINS, DEV_SECRETS, PJGW, compose
from tests.net import LOOPBACK, free_port

pytestmark = pytest.mark.stack  # starts a notary process


def _local(command: list[str], tmp_path: Path) -> list[str]:
    """compose's ``notary-0`` command with its container paths swapped for local ones."""
    token = tmp_path / "notary-0.token"
    token.write_text("unused\n")
    swap = {
        "pjgw": PJGW,
        "/run/secrets/notary-0.key": str(DEV_SECRETS / "notary-0.key"),
        "http://hub:8080": f"http://{LOOPBACK}:{free_port()}",  # nothing listens: it retries
        "/etc/pjgw/chains.toml": str(CHAINS),
        "/var/lib/pjgw/notary": str(tmp_path / "data"),
        "/var/lib/pjgw-tokens/notary-0.token": str(token),
    }
    return [swap.get(word, word) for word in command]


def test_notary_run_ends_cleanly_on_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "notary.log"
    command = _local(list(compose()["services"]["notary-0"]["command"]), tmp_path)
    assert command[:3] == [PJGW, "notary", "run"]
    command += ["--poll-interval", "0.2"]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while "polling" not in log.read_text() and process.poll() is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(log.read_text())
                time.sleep(0.1)
            assert process.poll() is None, log.read_text()
            process.send_signal(signal.SIGTERM)
            code = process.wait(30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(5)
    assert code == 0, log.read_text()[-2000:]
