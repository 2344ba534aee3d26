"""The hub as an operator runs it: every part a real process, a token devnet -> anvil.

A devnet node (``python -m devnet run``), anvil with a fresh ``Bridge.sol``
whose committee is the devnet's three genesis notaries (threshold two), the
hub (``pjgw serve --chains``: store on SQLite, relayer, API) and three notary
processes (``pjgw notary run``, each with its own key, its own light clients
and its own API key). The test talks to the hub only through its HTTP API and
reads the result straight from anvil.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.signers.keystore_files import write_v3
from core.states import TERMINAL_TRANSFER_STATES
from tests.e2e.harness import (
    AMOUNT,
    FAST_RELAYER,
    PJGW,
    Processes,
    chains_toml,
    create_key,
    signed_send,
    voucher_balance,
    wait_http,
)
from tests.fixtures.devnet import DevnetProcess, start_devnet
from tests.fixtures.relay import NOTARY_KEYS, ROUTE, Anvil
from tests.fixtures.tiers import starts
from tests.net import free_port

KEYSTORE_PASSWORD = "e2e-keystore-password"  # a throw-away password
OWN_ANVIL = True  # an anvil of its own, not the folder's (tests.fixtures.anvil)
pytestmark = pytest.mark.stack  # the hub's processes, started by the tests themselves


@pytest.fixture
@starts("chain")
def devnet(tmp_path: Path) -> Iterator[DevnetProcess]:
    node = start_devnet(tmp_path / "devnet")
    yield node
    node.stop()


def test_a_transfer_created_through_the_api_reaches_anvil_through_hub_and_notary_processes(
    tmp_path: Path,
    devnet: DevnetProcess,
    evm: Anvil,
) -> None:
    env = evm
    env.chain.call("anvil_setBlockTimestampInterval", 1)
    processes = Processes(tmp_path)
    hub_dir = tmp_path / "hub"
    hub_dir.mkdir()
    (tmp_path / "hub.toml").write_text(chains_toml(devnet.url, env, hub=True))
    (tmp_path / "notary.toml").write_text(chains_toml(devnet.url, env, hub=False))
    store_env = {"PJGW_DATA_DIR": str(hub_dir)}
    client_key = create_key(store_env, "tour-client", "client")
    notary_tokens = [create_key(store_env, f"notary-{i}", "notary") for i in range(3)]
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}"
    before = voucher_balance(env, env.alice)
    try:
        processes.start(
            "hub",
            [PJGW, "serve", "--chains", str(tmp_path / "hub.toml"), "--port", str(port)],
            {"PJGW_DATA_DIR": str(hub_dir), "PJGW_LOG_LEVEL": "info", **FAST_RELAYER},
        )
        wait_http(hub_url + "/healthz")
        for i, (key, token) in enumerate(zip(NOTARY_KEYS, notary_tokens, strict=True)):
            # notary 0 keeps its key in the encrypted keystore, the others in the dev flag's
            # plaintext files: both paths of `pjgw notary run`
            if i == 0:
                store = tmp_path / "keystore" / "notary-0.json"
                write_v3(store, key, KEYSTORE_PASSWORD, "notary-0", scrypt_n=2**4)
                key_options = ["--signer", f"keystore:{store}"]
            else:
                key_file = tmp_path / f"notary-{i}.key"
                key_file.write_text(key.hex())
                key_options = ["--insecure-plaintext-key", "--key-file", str(key_file)]
            processes.start(
                f"notary-{i}",
                [
                    PJGW,
                    "notary",
                    "run",
                    *key_options,
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
                {"PJGW_KEYSTORE_PASSWORD": KEYSTORE_PASSWORD},
            )
        sender, tx = signed_send(devnet.url, env.alice, int(env.chain.timestamp()) + 3600)
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
        assert voucher_balance(env, env.alice) == before + AMOUNT
        steps = {tx["role"] for tx in transfer.get("transactions", [])}
        assert steps, transfer  # the API lists the chain transactions of the transfer
    finally:
        processes.stop()
        env.chain.call("anvil_removeBlockTimestampInterval")
    # no key (nor the keystore's password) in any line any process wrote
    logs = {path.name: path.read_text(errors="replace") for path in tmp_path.glob("*.log")}
    assert {"hub.log", "notary-0.log", "notary-1.log", "notary-2.log"} <= set(logs)
    assert "(keystore:notary-0) polling" in logs["notary-0.log"]
    secrets = [k.hex() for k in NOTARY_KEYS] + [env.relayer_key.removeprefix("0x").lower()]
    secrets.append(KEYSTORE_PASSWORD)
    for name, text in logs.items():
        lowered = text.lower()
        for secret in secrets:
            assert secret.lower() not in lowered, f"{name} holds a key or password"
