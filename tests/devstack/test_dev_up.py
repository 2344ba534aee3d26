"""``pjgw dev up`` as a user runs it: the stack starts, the tour works, Ctrl-C leaves nothing.

One real stack (devnet, anvil, hub, three notaries: seven processes with the
supervisor) on free ports and a temporary data directory. The tour's commands
run as subprocesses exactly as the README prints them; the balances are read
straight from anvil and the devnet, not through the hub or the CLI.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from eth_hash.auto import keccak

from tests.evm.chain import Chain
from tests.net import free_port

pytestmark = pytest.mark.stack  # the whole dev stack, seven processes

REPO_ROOT = Path(__file__).resolve().parents[2]
PJGW = str(Path(sys.executable).parent / "pjgw")
READY = "pjgw dev: ready"
AMOUNT, BACK = 1_000, 400


def _ports(count: int) -> list[int]:
    ports: set[int] = set()
    while len(ports) < count:
        ports.add(free_port())
    return sorted(ports)


class Stack:
    """``pjgw dev up`` as a subprocess; its output is drained by a thread into ``lines``."""

    def __init__(self, data: Path, *extra: str) -> None:
        api, devnet, anvil = _ports(3)
        self.data = data
        self.process = subprocess.Popen(
            [
                PJGW,
                "dev",
                "up",
                "--data-dir",
                str(data),
                "--api-port",
                str(api),
                "--devnet-port",
                str(devnet),
                "--anvil-port",
                str(anvil),
                *extra,
            ],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                break
            self.lines.append(line)
            if text in line:
                return
        raise AssertionError(f"no {text!r} from pjgw dev up:\n{self.output()}\n{self.logs()}")

    def output(self) -> str:
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return "".join(self.lines)

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name} ---\n{log.read_text(errors='replace')[-2000:]}"
            for log in sorted((self.data / "logs").glob("*.log"))
        )

    def info(self) -> dict:  # type: ignore[type-arg]
        return json.loads((self.data / "stack.json").read_text())

    def interrupt(self, timeout: float = 60) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout)

    def kill_leftovers(self) -> None:
        """After a failed test: the stack and whatever it started, by their own pids."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if (self.data / "stack.json").exists():
            for pid in self.info()["pids"].values():
                if _running(pid, self.data):
                    os.killpg(pid, signal.SIGKILL)


def _running(pid: int, data: Path) -> bool:
    """The child ``pid`` of this stack still exists (a reused pid runs something else)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    ours = str(data).encode() in cmdline or b"anvil" in cmdline
    return ours and state != "Z"


def _send_there_and_follow(stack: Stack, to: str) -> str:
    """The tour's ``pjgw transfer`` of ``AMOUNT`` upj from alice to ``to`` on anvil, then
    ``pjgw status`` of it until it ends: what status printed (both commands exit 0)."""
    created = _cli(
        "transfer", "--route", "devnet-to-anvil", "--from", "alice", "--to", to,
        "--amount", str(AMOUNT), "--denom", "upj", "--quiet", data=stack.data,
    )  # fmt: skip
    assert created.returncode == 0, created.stdout + created.stderr
    transfer_id = created.stdout.strip().splitlines()[-1]
    followed = _cli("status", transfer_id, "--timeout", "150", data=stack.data)
    assert followed.returncode == 0, followed.stdout + followed.stderr + stack.logs()
    return followed.stdout


def _cli(*args: str, data: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PJGW, *args],
        cwd=REPO_ROOT,
        env=os.environ | {"PJGW_DEV_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _voucher_balance(anvil_url: str, bridge: str, holder: str) -> int:
    chain = Chain(anvil_url)
    try:
        voucher = chain.at("Bridge", bridge).view("voucherOf", keccak(b"pujiang-devnet/upj"))
        if int(voucher, 16) == 0:
            return 0
        return int(chain.at("WrappedToken", voucher).view("balanceOf", holder))
    finally:
        chain.close()


def _devnet_balance(url: str, address: str) -> int:
    account = httpx.get(f"{url}/v1/accounts/{address}", timeout=10).json()
    return int(account["balances"].get("upj", 0))


def test_dev_up_runs_the_tour_both_ways_and_ctrl_c_stops_every_process(tmp_path: Path) -> None:
    data = tmp_path / "dev"
    stack = Stack(data)
    try:
        stack.wait_for(READY, timeout=180)
        info = stack.info()
        anvil, devnet = info["chains"]["anvil-31337"], info["chains"]["pujiang-devnet"]
        alice = info["accounts"]["alice"]
        alice_evm, alice_pj = alice["anvil-31337"]["address"], alice["pujiang-devnet"]["address"]
        assert "pjgw transfer --route devnet-to-anvil" in stack.output()  # the tour's first step
        assert info["api_key"] in stack.output()  # the development key is printed
        devnet_before = _devnet_balance(devnet["url"], alice_pj)

        # There: a devnet token to anvil, signed by the hub's managed account.
        followed = _send_there_and_follow(stack, alice_evm)
        assert "completed" in followed
        assert "attested" in followed
        assert _voucher_balance(anvil["rpc_url"], anvil["bridge"], alice_evm) == AMOUNT
        assert _devnet_balance(devnet["url"], alice_pj) == devnet_before - AMOUNT

        # And back: part of the voucher burned on anvil, released from escrow on the devnet.
        back = _cli(
            "transfer", "--route", "anvil-to-devnet", "--from", "alice", "--to", alice_pj,
            "--amount", str(BACK), "--denom", "pujiang-devnet/upj", "--wait", data=data,
        )  # fmt: skip
        assert back.returncode == 0, back.stdout + back.stderr + stack.logs()
        assert _voucher_balance(anvil["rpc_url"], anvil["bridge"], alice_evm) == AMOUNT - BACK
        assert _devnet_balance(devnet["url"], alice_pj) == devnet_before - AMOUNT + BACK

        # The same transfer on a light-client route (README step 5): the route is switched
        # through the API and anvil's PujiangLightClient checks the devnet's validators.
        switched = httpx.post(
            f"{info['api']}/v1/routes",
            headers={"X-API-Key": info["api_key"]},
            json={
                "route_id": "devnet-to-anvil",
                "source": "pujiang-devnet",
                "destination": "anvil-31337",
                "protocol": "light_client",
            },
            timeout=10,
        )
        assert switched.status_code == 200, switched.text
        assert anvil["light_client"]
        followed = _send_there_and_follow(stack, alice_evm)
        assert "completed" in followed
        assert "holds height" in followed  # attested by the on-chain client, not notaries
        assert _voucher_balance(anvil["rpc_url"], anvil["bridge"], alice_evm) == 2 * AMOUNT - BACK

        shown = _cli("balances", "alice", data=data)
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert "pujiang-devnet/upj" in shown.stdout, shown.stdout

        pids = info["pids"]
        assert set(pids) == {"devnet", "anvil", "hub", "notary-0", "notary-1", "notary-2"}
        assert all(_running(pid, data) for pid in pids.values())  # so the check below can fail
        assert stack.interrupt() == 0, stack.output()
        assert "pjgw dev: stopped" in stack.output()
        assert [name for name, pid in pids.items() if _running(pid, data)] == []
    finally:
        stack.kill_leftovers()


def test_dev_up_with_a_relay_process_serves_the_api_apart_and_relays_a_transfer(
    tmp_path: Path,
) -> None:
    """``--relayers 1``: the hub serves the API only (``--no-relay``) and one ``pjgw relay``
    process on the same SQLite store moves the transfer; Ctrl-C stops both."""
    data = tmp_path / "dev"
    stack = Stack(data, "--relayers", "1")
    try:
        stack.wait_for(READY, timeout=180)
        info = stack.info()
        pids = info["pids"]
        assert set(pids) == {
            "devnet",
            "anvil",
            "hub",
            "relayer-0",
            "notary-0",
            "notary-1",
            "notary-2",
        }
        hub_command = Path(f"/proc/{pids['hub']}/cmdline").read_bytes().split(b"\0")
        assert b"--no-relay" in hub_command
        anvil = info["chains"]["anvil-31337"]
        alice_evm = info["accounts"]["alice"]["anvil-31337"]["address"]
        followed = _send_there_and_follow(stack, alice_evm)
        assert "completed" in followed
        assert _voucher_balance(anvil["rpc_url"], anvil["bridge"], alice_evm) == AMOUNT
        assert "relayer on the store" in (data / "logs" / "relayer-0.log").read_text()
        assert stack.interrupt() == 0, stack.output()
        assert [name for name, pid in pids.items() if _running(pid, data)] == []
    finally:
        stack.kill_leftovers()
