"""Start and stop a real anvil node (Foundry's dev chain) for tests and ``make run``.

Why it is done this way (measured, see the team's anvil notes):

* the binary itself is started, from the npm package in ``node_modules``, never
  through ``npx`` or the ``.bin`` node wrapper: killing a wrapper leaves anvil
  running and holding its port;
* ``--port 0`` and the log line ``Listening on 127.0.0.1:PORT`` give a free
  port without a race;
* ``--prune-history`` and a temporary ``HOME``: by default anvil dumps its
  whole state under ``~/.foundry`` every block (gigabytes, slower mining);
* ``--disable-block-gas-limit``: with instant mining a transaction above the
  block gas limit would otherwise stay pending until something else mines;
* the node is stopped by its own pid (terminate, then kill) from ``stop()``,
  the context manager or, as a last resort, ``atexit``.

The node's stdout goes to a log file in its temporary home, not to a pipe, so
nothing has to drain it while the node runs.
"""

from __future__ import annotations

import atexit
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from core.errors import ChainUnavailable, ConfigError

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_HOST = "127.0.0.1"

_LISTENING = re.compile(r"Listening on ([0-9.]+):(\d+)")
_ACCOUNT = re.compile(r"^\((\d+)\) (0x[0-9a-fA-F]{40}) \(", re.MULTILINE)
_PRIVATE_KEY = re.compile(r"^\((\d+)\) (0x[0-9a-fA-F]{64})\s*$", re.MULTILINE)
_PLATFORMS = {("Linux", "x86_64"): "linux-amd64", ("Linux", "aarch64"): "linux-arm64"}
_PLATFORMS |= {("Darwin", "x86_64"): "darwin-amd64", ("Darwin", "arm64"): "darwin-arm64"}

_running: set[AnvilNode] = set()


def find_anvil_binary(root: Path = REPO_ROOT) -> Path:
    """The anvil executable shipped by the npm package ``@foundry-rs/anvil-<platform>``.

    ``PJGW_ANVIL_BIN`` overrides the lookup (an anvil installed some other way).
    """
    configured = os.environ.get("PJGW_ANVIL_BIN")
    if configured:
        path = Path(configured)
    else:
        suffix = _PLATFORMS.get((platform.system(), platform.machine()))
        if suffix is None:
            raise ConfigError(f"no anvil package for {platform.system()} {platform.machine()}")
        path = root / "node_modules" / "@foundry-rs" / f"anvil-{suffix}" / "bin" / "anvil"
    if not path.is_file() or not os.access(path, os.X_OK):
        raise ConfigError(f"anvil not found at {path}: run `make node_modules` (npm ci) first")
    return path


@dataclass(frozen=True, slots=True)
class AnvilConfig:
    """How to start one node. Every bound explicit, with a safe default."""

    chain_id: int = 31337
    block_time: float | None = None  # None: mine each transaction at once
    accounts: int = 10
    balance_ether: int = 10_000
    state_path: Path | None = None  # load on start if present, dump on stop
    startup_timeout: float = 15.0
    stop_timeout: float = 10.0
    extra_args: tuple[str, ...] = ()

    def command(self, binary: Path) -> list[str]:
        args = [str(binary), "--host", LOCAL_HOST, "--port", "0", "--prune-history"]
        args += ["--chain-id", str(self.chain_id), "--accounts", str(self.accounts)]
        args += ["--balance", str(self.balance_ether), "--disable-block-gas-limit"]
        if self.block_time is not None:
            args += ["--block-time", f"{self.block_time:g}"]
        if self.state_path is not None:
            args += ["--state", str(self.state_path)]
        return args + list(self.extra_args)


@dataclass(frozen=True, slots=True)
class DevAccount:
    """A funded, unlocked dev account anvil printed at start (test keys, public)."""

    address: str
    private_key: str = field(repr=False)


class AnvilNode:
    """One anvil process on a free loopback port; a context manager.

    CONTRACT: call ``stop()`` (or leave the ``with`` block); an ``atexit`` hook
    stops whatever is still running when the interpreter exits.
    """

    def __init__(self, config: AnvilConfig | None = None, binary: Path | None = None) -> None:
        self.config = config or AnvilConfig()
        self.binary = binary or find_anvil_binary()
        self.port: int | None = None
        self.accounts: list[DevAccount] = []
        self._process: subprocess.Popen[bytes] | None = None
        self._home: Path | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise ChainUnavailable("anvil is not running")
        return f"http://{LOCAL_HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def log_path(self) -> Path | None:
        return self._home / "anvil.log" if self._home else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> Self:
        """Start the node and return once it listens (it answers RPC ~0.1 s later)."""
        if self._process is not None:
            raise ConfigError("this anvil node was already started")
        self._home = Path(tempfile.mkdtemp(prefix="pjgw-anvil-"))
        log_path = self._home / "anvil.log"
        env = {**os.environ, "HOME": str(self._home)}
        with log_path.open("wb") as log:
            self._process = subprocess.Popen(  # noqa: S603 (our own binary, fixed arguments)
                self.config.command(self.binary),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self._home,
            )
        _running.add(self)
        try:
            self._wait_listening(log_path)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_listening(self, log_path: Path) -> None:
        deadline = time.monotonic() + self.config.startup_timeout
        while time.monotonic() < deadline:
            text = log_path.read_text(errors="replace")
            found = _LISTENING.search(text)
            if found:
                self.port = int(found.group(2))
                self.accounts = _parse_accounts(text)
                return
            if self._process is not None and self._process.poll() is not None:
                raise ChainUnavailable(
                    f"anvil exited with code {self._process.returncode}: {text[-2000:]}"
                )
            time.sleep(0.01)
        raise ChainUnavailable(f"anvil did not listen within {self.config.startup_timeout} s")

    def stop(self) -> None:
        """Stop the node by its pid: SIGTERM (anvil dumps ``--state`` then), SIGKILL if stuck."""
        process, self._process = self._process, None
        _running.discard(self)
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self.config.stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=self.config.stop_timeout)
        self.port = None
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    def __enter__(self) -> Self:
        return self.start() if self._process is None else self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _parse_accounts(banner: str) -> list[DevAccount]:
    addresses = dict(_ACCOUNT.findall(banner))
    keys = dict(_PRIVATE_KEY.findall(banner))
    return [DevAccount(addresses[i], keys[i]) for i in sorted(addresses, key=int) if i in keys]


@atexit.register
def _stop_all() -> None:
    for node in list(_running):
        node.stop()
