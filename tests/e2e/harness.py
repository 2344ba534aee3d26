"""The end-to-end tests' toolbox: real processes, the chains file, keys, and reads of both chains.

Everything here drives real parts: ``pjgw`` subcommands as processes (stopped
by their own pid), a devnet node over HTTP, anvil over JSON-RPC. The fault
tests (``test_faults_*.py``) and ``test_hub_processes.py`` share it.

* ``Processes``: start, SIGKILL, restart and stop named processes; their
  output goes to ``<logs>/<name>.log`` (appended across restarts).
* ``chains_toml``: the chains file of the hub, a relayer or a notary.
* ``create_key``: ``pjgw keys create`` (a client or notary API token).
* ``signed_send`` / ``signed_sends`` / ``post_txs``: devnet ``bridge_send``
  transactions signed here and handed to the node itself, so hundreds of
  transfers start without hundreds of API calls (the relayer's watcher turns
  every ``send_packet`` into a transfer).
* ``voucher_balance`` / ``assert_conserved``: balances read from the chains,
  not from the hub (conservation by ``tests/flows/conservation.py``).
* ``recv_sequences`` / ``bridge_transactions``: what reached the anvil bridge,
  counted from its logs and from the blocks' transactions.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import httpx
from eth_hash.auto import keccak

from adapters.pujiang import PujiangAdapter
from adapters.pujiang.actions import TxSigner, build_signed_tx
from core.states import TERMINAL_TRANSFER_STATES
from tests.fixtures.anvil import CHAIN_ID as EVM_CHAIN_ID
from tests.fixtures.anvil import LOCAL_CHAIN
from tests.fixtures.devnet import CHAIN_ID as DEVNET_CHAIN
from tests.fixtures.devnet import account_seed
from tests.fixtures.relay import NOTARIES, NOTARY_KEYS, ROUTE, Anvil
from tests.net import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]
PJGW = str(Path(sys.executable).parent / "pjgw")
AMOUNT = 1_000
DENOM = "upj"

FAST_RELAYER = {
    "PJGW_RELAYER_POLL_INTERVAL": "0.2",
    "PJGW_RELAYER_WAIT_INTERVAL": "0.2",
    "PJGW_RELAYER_BACKOFF_BASE": "0.2",
}
"""Relayer knobs that keep a test's waits short (``relayer/settings.py``)."""


class Processes:
    """Started processes, stopped (SIGTERM, then SIGKILL) by their own pid at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=os.environ | env
            )
        self.started.append((name, process))
        return process

    def latest(self, name: str) -> subprocess.Popen[bytes]:
        """The newest process started under ``name``."""
        for started, process in reversed(self.started):
            if started == name:
                return process
        raise KeyError(name)

    def kill(self, name: str) -> None:
        """SIGKILL the newest process named ``name`` (no clean-up runs) and reap it."""
        process = self.latest(name)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
        process.wait(10)

    def terminate(self, name: str, timeout: float = 15.0) -> None:
        """SIGTERM the newest process named ``name`` and wait for it (SIGKILL if stuck)."""
        process = self.latest(name)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)

    def tails(self, size: int = 2500) -> str:
        """The end of every log, without httpx's per-request lines."""
        names = dict.fromkeys(name for name, _ in self.started)
        parts = []
        for name in names:
            lines = (self.logs / f"{name}.log").read_text(errors="replace").splitlines()
            kept = "\n".join(line for line in lines if " httpx HTTP Request" not in line)
            parts.append(f"--- {name} ---\n{kept[-size:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        for _, process in self.started:
            if process.poll() is None:
                process.terminate()
        for _, process in self.started:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


def chains_toml(
    devnet_url: str,
    env: Anvil,
    *,
    hub: bool,
    evm_url: str | None = None,
    signer_key: str | None = None,
) -> str:
    """The chains file: the devnet, anvil and the route devnet -> anvil.

    ``hub``: the copy of a relayer holds its anvil signing key (``signer_key``,
    default the fixture's relayer account); a notary's copy holds none.
    ``evm_url`` replaces anvil's own URL (an RPC proxy in front of it).
    """
    committee = ", ".join(f'"{a}"' for a in NOTARIES)
    lines = [
        f"[chains.{DEVNET_CHAIN}]",
        'family = "pujiang"',
        f'url = "{devnet_url}"',
        "committee_threshold = 2",
        f"committee = [{committee}]",
        f"[chains.{LOCAL_CHAIN}]",
        'family = "evm"',
        f'rpc_url = "{evm_url or env.node.url}"',
        f"evm_chain_id = {EVM_CHAIN_ID}",
        f'bridge_address = "{env.bridge.address}"',
        "confirmations = 0",
        "committee_threshold = 2",
        f"committee = [{committee}]",
    ]
    if hub:  # only a relayer's copy holds a signing key: its account on anvil
        lines.append(f'signer_key = "{signer_key or env.relayer_key}"')
        lines.append("insecure_plaintext_key = true  # a test key in a file: opted in")
    lines += [f"[routes.{ROUTE}]", f'source = "{DEVNET_CHAIN}"', f'destination = "{LOCAL_CHAIN}"']
    return "\n".join(lines) + "\n"


def create_key(store_env: dict[str, str], name: str, role: str) -> str:
    """``pjgw keys create``: a new API token of ``role`` in the store named by ``store_env``."""
    result = subprocess.run(
        [PJGW, "keys", "create", name, "--role", role, "--quiet"],
        env=os.environ | store_env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip().splitlines()[-1]


def wait_http(url: str, timeout: float = 30.0) -> None:
    """Wait until ``GET url`` answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, *, interval: float = 0.5
) -> None:
    """Poll ``check`` until it is true; ``TimeoutError`` naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout:.0f} s")
        time.sleep(interval)


# --- the devnet side ------------------------------------------------------------------------


def account_nonce(devnet_url: str, sender: bytes) -> int:
    async def read() -> int:
        adapter = PujiangAdapter.from_options({"url": devnet_url, "chain_id": DEVNET_CHAIN})
        try:
            return await adapter.account_nonce(sender)
        finally:
            await adapter.aclose()

    return asyncio.run(read())


def signed_sends(
    devnet_url: str,
    receiver: str,
    timeout_ms: int,
    count: int,
    *,
    amount: int = AMOUNT,
    account: int = 0,
) -> tuple[str, list[bytes]]:
    """``count`` signed ``bridge_send`` txs of dev account ``account`` (consecutive nonces)."""
    signer = TxSigner(account_seed(account))
    sender = signer.address()
    first = account_nonce(devnet_url, sender)
    args = [LOCAL_CHAIN.encode(), bytes.fromhex(receiver[2:]), DENOM.encode(), amount, 0]
    txs = [
        build_signed_tx(signer, DEVNET_CHAIN, first + i, "bridge_send", [*args, timeout_ms])
        for i in range(count)
    ]
    return "0x" + sender.hex(), txs


def signed_send(devnet_url: str, receiver: str, timeout_s: int) -> tuple[str, bytes]:
    """One signed ``bridge_send`` of ``AMOUNT`` (timeout ``timeout_s`` unix seconds)."""
    sender, (tx,) = signed_sends(devnet_url, receiver, timeout_s * 1000, 1)
    return sender, tx


def post_txs(devnet_url: str, txs: Iterable[bytes]) -> int:
    """Hand signed transactions to the devnet node in order (``POST /v1/txs``); the count."""
    sent = 0
    with httpx.Client(base_url=devnet_url, timeout=10) as client:
        for tx in txs:
            answer = client.post("/v1/txs", json={"tx": "0x" + tx.hex()})
            if answer.status_code != 202:
                raise AssertionError(f"the devnet refused tx {sent}: {answer.text}")
            sent += 1
    return sent


# --- the anvil side -------------------------------------------------------------------------


def voucher_address(env: Anvil) -> str | None:
    address = env.bridge.view("voucherOf", keccak(f"{DEVNET_CHAIN}/{DENOM}".encode()))
    return None if int(address, 16) == 0 else address


def voucher_balance(env: Anvil, holder: str) -> int:
    address = voucher_address(env)
    if address is None:
        return 0
    return int(env.chain.at("WrappedToken", address).view("balanceOf", holder))


def recv_sequences(env: Anvil) -> Counter[int]:
    """How many ``RecvPacket`` logs the bridge emitted per packet sequence."""
    logs = env.chain.call(
        "eth_getLogs", {"address": env.bridge.address, "fromBlock": "0x0", "toBlock": "latest"}
    )
    found: Counter[int] = Counter()
    for log in logs:
        topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
        decoded = env.bridge.artifact.decode_log(topics, bytes.fromhex(log["data"][2:]))
        if decoded is not None and decoded[0] == "RecvPacket":
            found[int(decoded[1]["sequence"])] += 1
    return found


@dataclass(frozen=True)
class BridgeTx:
    sender: str
    block: int
    status: int


def bridge_transactions(env: Anvil, first_block: int) -> list[BridgeTx]:
    """Every transaction sent to the bridge from ``first_block`` on, mined or reverted."""
    latest = env.chain.block_number()
    found = []
    for number in range(first_block, latest + 1):
        block = env.chain.call("eth_getBlockByNumber", hex(number), True)
        for tx in block["transactions"]:
            if (tx.get("to") or "").lower() != env.bridge.address.lower():
                continue
            receipt = env.chain.call("eth_getTransactionReceipt", tx["hash"])
            found.append(BridgeTx(tx["from"].lower(), number, int(receipt["status"], 16)))
    return found


def assert_conserved(devnet_url: str, env: Anvil, *, start_block: int = 0) -> None:
    """Conservation on the route, read from both chains (``tests/flows/conservation.py``):
    escrowed on the devnet == vouchers on anvil + in flight; and, since every transfer is
    terminal when the fault tests call it, nothing in flight."""
    from tests.flows.conservation import AnvilView, Asset, DevnetView, check_conservation

    (ledger,) = check_conservation(
        DevnetView(devnet_url, DEVNET_CHAIN),
        AnvilView(env.node.url, LOCAL_CHAIN, env.bridge.address, start_block=start_block),
        [Asset(DEVNET_CHAIN, DENOM)],
    )
    if ledger.in_flight:
        raise AssertionError(f"value still in flight after every transfer ended: {ledger}")


# --- the hub side ---------------------------------------------------------------------------


def transfer_states(hub_url: str) -> Counter[str]:
    """Every transfer's state, paged through ``GET /v1/transfers``."""
    states: Counter[str] = Counter()
    cursor: str | None = None
    with httpx.Client(base_url=hub_url, timeout=10) as client:
        while True:
            params: dict[str, str | int] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/v1/transfers", params=params)
            page.raise_for_status()
            body = page.json()
            states.update(t["state"] for t in body["items"])
            cursor = body.get("next_cursor")
            if not cursor:
                return states


def all_terminal(states: Counter[str], expected: int) -> bool:
    return sum(states.values()) >= expected and all(s in TERMINAL_TRANSFER_STATES for s in states)


# --- a hub made of processes ----------------------------------------------------------------


@dataclass
class Hub:
    """The hub as separate processes on one store: an API, relayers and notaries.

    ``store_env`` names the store (``PJGW_DATA_DIR``, and ``PJGW_DATABASE_URL``
    for PostgreSQL); ``relayer_env`` adds ``PJGW_RELAYER_*`` knobs to every
    relayer. Files and logs go to ``root``.
    """

    root: Path
    processes: Processes
    store_env: dict[str, str]
    relayer_env: dict[str, str]
    url: str = ""
    notary_tokens: tuple[str, ...] = ()

    def write(self, name: str, text: str) -> Path:
        path = self.root / name
        path.write_text(text)
        return path

    def start_api(self, chains: Path, **env: str) -> str:
        """``pjgw serve --no-relay``: the API only; returns its base URL once it answers."""
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [PJGW, "serve", "--no-relay", "--chains", str(chains), "--port", str(port)]
        environment = {**self.store_env, "PJGW_LOG_LEVEL": "warning", **env}
        self.processes.start("api", command, environment)
        wait_http(self.url + "/healthz")
        return self.url

    def start_relayer(self, name: str, chains: Path, **env: str) -> subprocess.Popen[bytes]:
        """``pjgw relay --chains``: one relayer process (no API) on the shared store."""
        environment = {**self.store_env, "PJGW_LOG_LEVEL": "info", **self.relayer_env, **env}
        return self.processes.start(name, [PJGW, "relay", "--chains", str(chains)], environment)

    def make_notary_keys(self) -> None:
        self.notary_tokens = tuple(
            create_key(self.store_env, f"notary-{i}", "notary") for i in range(len(NOTARY_KEYS))
        )

    def start_notary(self, index: int, chains: Path, **env: str) -> subprocess.Popen[bytes]:
        """``pjgw notary run``: notary ``index`` of the devnet's genesis committee."""
        if not self.notary_tokens:
            self.make_notary_keys()
        key_file = self.root / f"notary-{index}.key"
        key_file.write_text(NOTARY_KEYS[index].hex())
        command = [
            PJGW,
            "notary",
            "run",
            "--insecure-plaintext-key",
            "--key-file",
            str(key_file),
            "--hub",
            self.url,
            "--config",
            str(chains),
            "--data",
            str(self.root / f"notary-{index}"),
            "--api-key",
            self.notary_tokens[index],
            "--poll-interval",
            "0.2",
        ]
        return self.processes.start(f"notary-{index}", command, env)

    def states(self) -> Counter[str]:
        return transfer_states(self.url)

    def wait_terminal(self, expected: int, timeout: float) -> Counter[str]:
        """Wait until ``expected`` transfers exist and all are terminal; their states."""
        seen: list[Counter[str]] = [Counter()]

        def done() -> bool:
            seen[0] = self.states()
            return all_terminal(seen[0], expected)

        try:
            wait_until(done, timeout, f"{expected} transfers terminal")
        except TimeoutError as err:
            raise AssertionError(
                f"{err}; states {dict(seen[0])}\n{self.processes.tails()}"
            ) from None
        return seen[0]
