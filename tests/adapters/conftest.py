"""Fixtures for the adapter tests: the kit's plugin, devnet nodes (a process or in-process).

* The conformance kit's plugin (``adapters.testing.plugin``) is loaded here
  unless ``-p`` or a ``pytest11`` entry point already did: its marker and its
  end-of-run summary then work in a plain ``pytest`` run.
* ``devnet_process``: a real devnet node started as a SUBPROCESS
  (``python -m devnet run``) on a free loopback port, talked to over a socket,
  stopped by its own pid (terminate, then kill) when the module ends.
* ``devnet_node``: the same node in-process (``DevnetNode``, blocks only on
  ``produce_block()``), reached through ``httpx.ASGITransport`` of its app.

Every devnet here derives its keys from ``DEVNET_SEED``, so the tests know the
funded accounts and the notary keys without reading the node's files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

import adapters.testing.plugin as kit_plugin
from tests.net import free_port

if TYPE_CHECKING:
    from devnet.node import DevnetNode

PLUGIN = "adapters.testing.plugin"
REPO_ROOT = Path(__file__).resolve().parents[2]
DEVNET_SEED = bytes.fromhex("5eed" * 16)
CHAIN_ID = "pujiang-devnet"
LOOPBACK = "127.0.0.1"


def pytest_configure(config: pytest.Config) -> None:
    # By module object, not name: a pytest11 entry point registers it under its own name.
    if not config.pluginmanager.is_registered(kit_plugin):
        config.pluginmanager.register(kit_plugin, PLUGIN)


def account_seed(index: int) -> bytes:
    """The Ed25519 seed of devnet dev account ``index`` (0 = alice, 1 = bob …)."""
    from devnet import keys  # devnet is imported only by the tests that run one

    return bytes(keys.account_key(DEVNET_SEED, index))


# --- a devnet node as a subprocess ----------------------------------------------------------


@dataclass
class DevnetProcess:
    """One ``python -m devnet run`` process; ``stop()`` ends it by its pid."""

    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_devnet(
    data_dir: Path,
    *,
    block_time: str = "200ms",
    attempts: int = 3,
    timeout: float = 20.0,
    faults: bool = False,
) -> DevnetProcess:
    """Start a devnet on a free port and wait until ``/healthz`` answers (``faults``: with
    ``/v1/faults/*``)."""
    for _ in range(attempts):
        port = free_port()
        log_path = data_dir.parent / f"devnet-{port}.log"
        command = [
            sys.executable,
            "-m",
            "devnet",
            "run",
            "--data",
            str(data_dir),
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--seed",
            DEVNET_SEED.hex(),
            "--block-time",
            block_time,
            "--log-level",
            "warning",
            *(["--faults"] if faults else []),
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=os.environ | {"PYTHONUNBUFFERED": "1"},
            )
        node = DevnetProcess(process, f"http://{LOOPBACK}:{port}", log_path)
        if _wait_ready(node, timeout):
            return node
        node.stop()
        if "address already in use" not in node.log().lower():
            raise RuntimeError(f"devnet did not start:\n{node.log()[-3000:]}")
    raise RuntimeError(f"devnet found no free port in {attempts} attempts")


def _wait_ready(node: DevnetProcess, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if node.process.poll() is not None:
            return False
        try:
            if httpx.get(node.url + "/healthz", timeout=1.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def devnet_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevnetProcess]:
    """A devnet node process on a free loopback port, stopped by its pid afterwards."""
    node = start_devnet(tmp_path_factory.mktemp("devnet") / "data")
    try:
        yield node
    finally:
        node.stop()


# --- a devnet node in-process -----------------------------------------------------------------


@dataclass
class InProcessDevnet:
    node: DevnetNode
    transport: httpx.ASGITransport
    url: str = "http://devnet.asgi"


@pytest.fixture(scope="module")
def devnet_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessDevnet]:
    """A devnet node in this process, served to httpx through its ASGI app (no socket)."""
    from devnet.api import create_app
    from devnet.config import NodeConfig
    from devnet.node import DevnetNode

    config = NodeConfig(
        data_dir=tmp_path_factory.mktemp("devnet-asgi"), block_time=None, seed=DEVNET_SEED
    )
    node = DevnetNode(config)
    try:
        yield InProcessDevnet(node, httpx.ASGITransport(app=create_app(node)))
    finally:
        node.close()
