"""The transfer check of ``make docker-test``: value moves through the compose stack and
is conserved, read from both chains.

It runs INSIDE the compose network, in a container of the hub's own image
(``deploy/docker/test.sh``: ``docker-compose run --no-deps hub python smoke.py``), so it
reaches every service by its compose name and needs nothing installed on the host. It
uses the product's own surfaces, as the README tour does:

1. a client API key made with ``pjgw keys create`` (the store is the stack's PostgreSQL);
2. 1000 upj devnet -> anvil: alice signs the devnet ``bridge_send`` herself and the hub
   gets it as ``signed_tx`` through ``POST /v1/transfers`` (the compose hub has no
   keystore, so no ``from_account``); it must reach ``completed``;
3. 400 of the voucher anvil -> devnet with ``pjgw transfer --wait`` (the CLI signs the
   Bridge call with alice's anvil dev key from a ``stack.json`` written here);
4. balances read from the chains (never from the hub): alice's upj on the devnet and her
   voucher on anvil moved by exactly the amounts, and the devnet's escrow for anvil
   equals the voucher's total supply (nothing is in flight once both are completed).

Every key used is a well-known development key: alice's devnet key derives from the
public ``DEVNET_SEED`` of ``deploy/.env.example``, her anvil key from anvil's published
test mnemonic. Exit status 0 when everything holds; 1 with the reason otherwise.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from eth_hash.auto import keccak

from adapters.evm.artifacts import load_artifact
from adapters.evm.rpc import JsonRpcClient
from adapters.pujiang import PujiangAdapter
from adapters.pujiang.actions import TxSigner, build_signed_tx
from devnet import keys
from devnet.modules.bridge import escrow_address
from proofs.pujiang import codec

HUB = os.environ.get("SMOKE_HUB", "http://hub:8080")
DEVNET = os.environ.get("SMOKE_DEVNET", "http://devnet:26657")
ANVIL = os.environ.get("SMOKE_ANVIL", "http://anvil:8545")
DEVNET_CHAIN, EVM_CHAIN, EVM_CHAIN_ID = "pujiang-devnet", "anvil-31337", 31337
OUT, BACK = 1000, 400
DENOM = "upj"
VOUCHER = f"{DEVNET_CHAIN}/{DENOM}"
ANVIL_MNEMONIC = "test test test test test test test test test test test junk"
PJGW = shutil.which("pjgw") or "/opt/pjgw/bin/pjgw"
"""The image's ``pjgw`` (its venv's bin is first on PATH)."""
DEADLINE = float(os.environ.get("SMOKE_TIMEOUT", "240"))
"""Seconds the stack gets to become ready, and then each transfer to complete."""


class SmokeFailed(Exception):
    """What did not hold, in one line."""


def say(text: str) -> None:
    print(f"smoke: {text}", flush=True)


def wait_ready(client: httpx.Client) -> None:
    """``/readyz`` answers 200 once the store and both chains answer the hub."""
    deadline, last = time.monotonic() + DEADLINE, "no answer"
    while time.monotonic() < deadline:
        try:
            answer = client.get("/readyz")
            if answer.status_code == 200:
                return
            last = f"HTTP {answer.status_code}: {answer.text[:300]}"
        except httpx.TransportError as err:
            last = type(err).__name__
        time.sleep(1)
    raise SmokeFailed(f"the hub was not ready within {DEADLINE:.0f} s ({last})")


def client_key() -> str:
    """A fresh client API key, made the way an operator makes one."""
    path = Path(tempfile.mkdtemp()) / "smoke.token"
    name = f"smoke-{uuid.uuid4().hex[:8]}"
    subprocess.run(  # noqa: S603 - our own CLI, fixed arguments, no shell
        [PJGW, "keys", "create", name, "--role", "client", "--token-file", str(path)],
        check=True,
        timeout=60,
    )
    return path.read_text().strip()


# --- reading the chains ---------------------------------------------------------------------


def devnet_balance(address: str, denom: str) -> int:
    account = httpx.get(f"{DEVNET}/v1/accounts/{address}", timeout=10).json()
    return int(account["balances"].get(denom, "0"))


def devnet_escrow() -> int:
    status = httpx.get(f"{DEVNET}/v1/status", timeout=10).json()
    hash_fn = codec.hash_profile(str(status.get("hash_profile", "sha256")))
    return devnet_balance("0x" + escrow_address(EVM_CHAIN.encode(), hash_fn).hex(), DENOM)


async def _voucher(bridge: str, holder: str) -> tuple[int, int]:
    bridge_abi, erc20 = load_artifact("Bridge"), load_artifact("WrappedToken")
    async with JsonRpcClient(ANVIL, timeout=10.0) as rpc:

        async def call(to: str, artifact: Any, fn: str, *args: Any) -> Any:
            data = "0x" + artifact.encode_call(fn, *args).hex()
            out = await rpc.call("eth_call", {"to": to, "data": data}, "latest")
            return artifact.decode_output(fn, bytes.fromhex(out[2:]))

        token = await call(bridge, bridge_abi, "voucherOf", keccak(VOUCHER.encode()))
        if int(token, 16) == 0:
            return 0, 0
        supply = await call(token, erc20, "totalSupply")
        return int(supply), int(await call(token, erc20, "balanceOf", holder))


def voucher(bridge: str, holder: str) -> tuple[int, int]:
    """``(total supply, holder's balance)`` of the upj voucher on anvil."""
    return asyncio.run(_voucher(bridge, holder))


def snapshot(bridge: str, alice_pj: str, alice_evm: str) -> dict[str, int]:
    supply, held = voucher(bridge, alice_evm)
    return {
        "alice_upj": devnet_balance(alice_pj, DENOM),
        "escrow": devnet_escrow(),
        "voucher_supply": supply,
        "alice_voucher": held,
    }


# --- the two transfers ------------------------------------------------------------------------


async def _nonce(sender: bytes) -> int:
    adapter = PujiangAdapter.from_options({"url": DEVNET, "chain_id": DEVNET_CHAIN})
    try:
        return await adapter.account_nonce(sender)
    finally:
        await adapter.aclose()


def wait_completed(client: httpx.Client, transfer_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE
    while True:
        transfer: dict[str, Any] = client.get(f"/v1/transfers/{transfer_id}").json()
        if transfer["state"] in ("completed", "rejected", "refunded"):
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    if transfer["state"] != "completed":
        raise SmokeFailed(f"{transfer_id} ended {transfer['state']}: {json.dumps(transfer)}")
    return transfer


def send_out(client: httpx.Client, seed: bytes, alice_evm: str) -> str:
    """devnet -> anvil through ``POST /v1/transfers`` with alice's own signed send."""
    signer = TxSigner(bytes(keys.account_key(seed, 0)))
    sender = signer.address()
    timeout_s = int(time.time()) + 3600
    args = [EVM_CHAIN.encode(), bytes.fromhex(alice_evm[2:]), DENOM.encode(), OUT, 0]
    tx = build_signed_tx(
        signer, DEVNET_CHAIN, asyncio.run(_nonce(sender)), "bridge_send", [*args, timeout_s * 1000]
    )
    body = {
        "route_id": "devnet-to-anvil",
        "kind": "asset",
        "sender": "0x" + sender.hex(),
        "receiver": alice_evm,
        "denom": DENOM,
        "amount": str(OUT),
        "timeout_seconds": timeout_s,
        "signed_tx": "0x" + tx.hex(),
    }
    created = client.post("/v1/transfers", json=body, headers={"Idempotency-Key": "smoke-out"})
    if created.status_code != 201:
        raise SmokeFailed(f"POST /v1/transfers: HTTP {created.status_code}: {created.text}")
    return str(created.json()["id"])


def stack_file(seed: bytes, token: str, bridge: str, alice_evm_key: str) -> Path:
    """The ``stack.json`` ``pjgw transfer`` / ``balances`` read (``devtools/tour.py``)."""
    alice_pj = "0x" + TxSigner(bytes(keys.account_key(seed, 0))).address().hex()
    info = {
        "api": HUB,
        "api_key": token,
        "chains": {
            DEVNET_CHAIN: {"family": "pujiang", "url": DEVNET},
            EVM_CHAIN: {
                "family": "evm",
                "rpc_url": ANVIL,
                "evm_chain_id": EVM_CHAIN_ID,
                "bridge": bridge,
            },
        },
        "accounts": {
            "alice": {
                DEVNET_CHAIN: {"address": alice_pj},
                EVM_CHAIN: {
                    "address": Account.from_key(alice_evm_key).address.lower(),
                    "key": alice_evm_key,
                },
            }
        },
    }
    directory = Path(tempfile.mkdtemp())
    path = directory / "stack.json"
    path.write_text(json.dumps(info))
    path.chmod(0o600)
    return directory


def expect(name: str, found: int, wanted: int) -> None:
    if found != wanted:
        raise SmokeFailed(f"{name}: {found}, expected {wanted}")
    say(f"  {name} = {found} (as expected)")


def main() -> int:
    seed = bytes.fromhex(os.environ["DEVNET_SEED"])
    Account.enable_unaudited_hdwallet_features()
    alice_evm_acct = Account.from_mnemonic(ANVIL_MNEMONIC, account_path="m/44'/60'/0'/0/1")
    alice_evm = alice_evm_acct.address.lower()
    alice_evm_key = "0x" + bytes(alice_evm_acct.key).hex()
    alice_pj = "0x" + TxSigner(bytes(keys.account_key(seed, 0))).address().hex()
    try:
        with httpx.Client(base_url=HUB, timeout=10) as anonymous:
            say(f"waiting for {HUB}/readyz")
            wait_ready(anonymous)
        token = client_key()
        say("made a client API key with `pjgw keys create --role client`")
        with httpx.Client(base_url=HUB, timeout=10, headers={"X-API-Key": token}) as client:
            chains = {c["chain_id"]: c for c in client.get("/v1/chains").json()}
            bridge = chains[EVM_CHAIN]["settings"]["bridge_address"]
            before = snapshot(bridge, alice_pj, alice_evm)
            say(f"before: {before}")

            out_id = send_out(client, seed, alice_evm)
            say(f"{out_id}: {OUT} {DENOM} devnet -> anvil (POST /v1/transfers, signed_tx)")
            out = wait_completed(client, out_id)
            say(f"{out_id}: completed ({len(out.get('transactions', []))} chain transactions)")
            middle = snapshot(bridge, alice_pj, alice_evm)
            expect("alice's upj on the devnet", middle["alice_upj"], before["alice_upj"] - OUT)
            held = before["alice_voucher"] + OUT
            expect("alice's voucher on anvil", middle["alice_voucher"], held)
            expect("devnet escrow for anvil", middle["escrow"], before["escrow"] + OUT)
            expect("voucher supply on anvil", middle["voucher_supply"], middle["escrow"])

        dev_dir = stack_file(seed, token, bridge, alice_evm_key)
        say(f"{BACK} {VOUCHER} anvil -> devnet (pjgw transfer --wait)")
        command = [PJGW, "transfer", "--route", "anvil-to-devnet", "--from", "alice"]
        command += ["--to", alice_pj, "--amount", str(BACK), "--denom", VOUCHER, "--wait"]
        env = os.environ | {"PJGW_DEV_DIR": str(dev_dir), "TERM": "dumb"}
        back = subprocess.run(  # noqa: S603 - our own CLI, fixed arguments, no shell
            command, env=env, timeout=DEADLINE + 60, check=False
        )
        if back.returncode != 0:
            raise SmokeFailed(f"pjgw transfer anvil -> devnet exited {back.returncode}")
        after = snapshot(bridge, alice_pj, alice_evm)
        say(f"after: {after}")
        expect("alice's upj on the devnet", after["alice_upj"], before["alice_upj"] - OUT + BACK)
        expect("alice's voucher on anvil", after["alice_voucher"], middle["alice_voucher"] - BACK)
        expect("devnet escrow for anvil", after["escrow"], middle["escrow"] - BACK)
        expect("voucher supply on anvil (== escrow)", after["voucher_supply"], after["escrow"])
    except SmokeFailed as failed:
        say(f"FAILED: {failed}")
        return 1
    say("OK: both transfers completed and the upj escrowed equals the vouchers outstanding")
    return 0


if __name__ == "__main__":
    sys.exit(main())
