"""The hub as an operator runs it: every part a real process, a token devnet -> anvil.

A devnet node (``python -m devnet run``), anvil with a fresh ``Bridge.sol``
whose committee is the devnet's three genesis notaries (threshold two), the
hub (``pjgw serve --chains``: store on SQLite, relayer, API) and three notary
processes (``pjgw notary run``, each with its own key, its own light clients
and its own API key). The test talks to the hub only through its HTTP API and
reads the result straight from anvil.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from eth_hash.auto import keccak

from adapters.pujiang import PujiangAdapter
from adapters.pujiang.actions import TxSigner, build_signed_tx
from core.states import TERMINAL_TRANSFER_STATES
from tests.adapters.conftest import (
    CHAIN_ID as DEVNET_CHAIN,
)
from tests.adapters.conftest import (
    DevnetProcess,
    account_seed,
    free_port,
    start_devnet,
)
from tests.evm.conftest import CHAIN_ID as EVM_CHAIN_ID
from tests.evm.conftest import LOCAL_CHAIN, anvil, chain  # noqa: F401 - fixtures re-declared
from tests.relayer.conftest import NOTARIES, NOTARY_KEYS, ROUTE, Anvil, evm  # noqa: F401

REPO_ROOT = Path(__file__).resolve().parents[2]
PJGW = str(Path(sys.executable).parent / "pjgw")
AMOUNT = 1_000


class Processes:
    """Started processes, stopped (SIGTERM, then SIGKILL) by their own pid at the end."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT, env=os.environ | env
        )
        self.started.append((name, process))

    def tails(self) -> str:
        return "\n".join(
            f"--- {name} ---\n{(self.logs / f'{name}.log').read_text(errors='replace')[-2500:]}"
            for name, _ in self.started
        )

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


@pytest.fixture
def devnet(tmp_path: Path) -> Iterator[DevnetProcess]:
    node = start_devnet(tmp_path / "devnet")
    yield node
    node.stop()


def _chains_toml(devnet: DevnetProcess, env: Anvil, *, hub: bool) -> str:
    committee = ", ".join(f'"{a}"' for a in NOTARIES)
    lines = [
        f"[chains.{DEVNET_CHAIN}]",
        'family = "pujiang"',
        f'url = "{devnet.url}"',
        "committee_threshold = 2",
        f"committee = [{committee}]",
        f"[chains.{LOCAL_CHAIN}]",
        'family = "evm"',
        f'rpc_url = "{env.node.url}"',
        f"evm_chain_id = {EVM_CHAIN_ID}",
        f'bridge_address = "{env.bridge.address}"',
        "confirmations = 0",
        "committee_threshold = 2",
        f"committee = [{committee}]",
    ]
    if hub:  # only the hub's copy holds a signing key: the relayer's account on anvil
        lines.append(f'signer_key = "{env.relayer_key}"')
    lines += [f"[routes.{ROUTE}]", f'source = "{DEVNET_CHAIN}"', f'destination = "{LOCAL_CHAIN}"']
    return "\n".join(lines) + "\n"


def _key(data_dir: Path, name: str, role: str) -> str:
    result = subprocess.run(
        [PJGW, "keys", "create", name, "--role", role, "--quiet"],
        env=os.environ | {"PJGW_DATA_DIR": str(data_dir)},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip().splitlines()[-1]


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(url)


def _signed_send(devnet: DevnetProcess, receiver: str, timeout_s: int) -> tuple[str, bytes]:
    signer = TxSigner(account_seed(0))
    sender = signer.address()

    async def nonce() -> int:
        adapter = PujiangAdapter.from_options({"url": devnet.url, "chain_id": DEVNET_CHAIN})
        try:
            return await adapter.account_nonce(sender)
        finally:
            await adapter.aclose()

    args = [
        LOCAL_CHAIN.encode(),
        bytes.fromhex(receiver[2:]),
        b"upj",
        AMOUNT,
        0,
        timeout_s * 1000,
    ]
    tx = build_signed_tx(signer, DEVNET_CHAIN, asyncio.run(nonce()), "bridge_send", args)
    return "0x" + sender.hex(), tx


def _voucher_balance(env: Anvil, holder: str) -> int:
    address = env.bridge.view("voucherOf", keccak(f"{DEVNET_CHAIN}/upj".encode()))
    if int(address, 16) == 0:
        return 0
    return int(env.chain.at("WrappedToken", address).view("balanceOf", holder))


def test_a_transfer_created_through_the_api_reaches_anvil_through_hub_and_notary_processes(
    tmp_path: Path,
    devnet: DevnetProcess,
    evm: Anvil,  # noqa: F811 - the imported fixture
) -> None:
    env = evm
    env.chain.call("anvil_setBlockTimestampInterval", 1)
    processes = Processes(tmp_path)
    hub_dir = tmp_path / "hub"
    hub_dir.mkdir()
    (tmp_path / "hub.toml").write_text(_chains_toml(devnet, env, hub=True))
    (tmp_path / "notary.toml").write_text(_chains_toml(devnet, env, hub=False))
    client_key = _key(hub_dir, "tour-client", "client")
    notary_tokens = [_key(hub_dir, f"notary-{i}", "notary") for i in range(3)]
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}"
    before = _voucher_balance(env, env.alice)
    try:
        processes.start(
            "hub",
            [PJGW, "serve", "--chains", str(tmp_path / "hub.toml"), "--port", str(port)],
            {
                "PJGW_DATA_DIR": str(hub_dir),
                "PJGW_LOG_LEVEL": "warning",
                "PJGW_RELAYER_POLL_INTERVAL": "0.2",
                "PJGW_RELAYER_WAIT_INTERVAL": "0.2",
                "PJGW_RELAYER_BACKOFF_BASE": "0.2",
            },
        )
        _wait_http(hub_url + "/healthz")
        for i, (key, token) in enumerate(zip(NOTARY_KEYS, notary_tokens, strict=True)):
            key_file = tmp_path / f"notary-{i}.key"
            key_file.write_text(key.hex())
            processes.start(
                f"notary-{i}",
                [
                    PJGW,
                    "notary",
                    "run",
                    "--key-file",
                    str(key_file),
                    "--hub",
                    hub_url,
                    "--config",
                    str(tmp_path / "notary.toml"),
                    "--data",
                    str(tmp_path / f"notary-{i}"),
                    "--api-key",
                    token,
                    "--poll-interval",
                    "0.2",
                ],
                {},
            )
        sender, tx = _signed_send(devnet, env.alice, int(env.chain.timestamp()) + 3600)
        body = {
            "route_id": ROUTE,
            "kind": "asset",
            "sender": sender,
            "receiver": env.alice,
            "denom": "upj",
            "amount": str(AMOUNT),
            "timeout_seconds": int(env.chain.timestamp()) + 3600,
            "signed_tx": "0x" + tx.hex(),
        }
        headers = {"X-API-Key": client_key, "Idempotency-Key": str(uuid.uuid4())}
        created = httpx.post(hub_url + "/v1/transfers", json=body, headers=headers, timeout=10)
        assert created.status_code == 201, created.text
        transfer_id = created.json()["id"]

        deadline = time.monotonic() + 120
        state = created.json()["state"]
        while state not in TERMINAL_TRANSFER_STATES and time.monotonic() < deadline:
            time.sleep(0.5)
            state = httpx.get(f"{hub_url}/v1/transfers/{transfer_id}", timeout=10).json()["state"]
        transfer = httpx.get(f"{hub_url}/v1/transfers/{transfer_id}", timeout=10).json()
        assert state == "completed", f"{transfer}\n{processes.tails()}"
        assert _voucher_balance(env, env.alice) == before + AMOUNT
        steps = {tx["role"] for tx in transfer.get("transactions", [])}
        assert steps, transfer  # the API lists the chain transactions of the transfer
    finally:
        processes.stop()
        env.chain.call("anvil_removeBlockTimestampInterval")
