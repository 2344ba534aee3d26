"""``pjgw swap …``: an atomic swap on the dev stack, step by step, as its two parties.

The hub only coordinates and watches; the parties lock their own legs. These
commands play both parties with the dev stack's public test keys (``stack.json``):

* ``propose``: the initiator picks a 32-byte secret, keeps it in
  ``<dev dir>/swaps/<id>.json`` (mode 0600) and sends only its sha256 to
  ``POST /v1/swaps``; the hub computes safe timelocks.
* ``lock ID --leg 1|2``: the leg's sender locks it on its chain
  (devnet ``htlc_lock``; anvil ``HashedTimelock.lock``, an ERC-20 approved first).
* ``claim ID``: the initiator claims leg 2. Delegated (the default): the secret
  goes to ``POST /v1/swaps/{id}/claim`` and the hub claims; otherwise it is
  claimed here, on leg 2's chain. Either way the watchtower then sees the
  preimage and claims leg 1 for the responder.
* ``status ID``: the legs and the history, following until a terminal state.

``DevnetParty`` and ``EvmParty`` (lock, claim, refund straight on a chain) are
also what ``bench/swaps.py`` drives. They keep their own nonce counter so many
locks can be in flight from one account.

SECURITY: dev keys only (public constants, see devtools/devstack.py). The
secret is printed by no command; it travels once, to the claim endpoint.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import time
import uuid
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.markup import escape

from core.errors import ConfigError, InvalidInput, NotFound
from devtools.tour import (
    DevDirOption,
    HubError,
    HubOption,
    KeyOption,
    _check,
    _headers,
    _hub,
    _reaching,
    _stack,
    console,
)

swap_app = typer.Typer(help="Atomic swaps (HTLC) on the dev stack: propose, lock, claim, status.")
TERMINAL = ("completed", "refunded", "unbalanced", "rejected")
TX_TIMEOUT = 60.0
NATIVE = "native"


# --- the parties: straight to the chains --------------------------------------------------------


class DevnetParty:
    """One devnet account that locks and claims HTLCs (its Ed25519 seed signs here)."""

    def __init__(self, url: str, chain_id: str, seed: bytes) -> None:
        from adapters.pujiang.actions import TxSigner

        self.url, self.chain_id = url.rstrip("/"), chain_id
        self._signer = TxSigner(seed)
        self.address = "0x" + self._signer.address().hex()
        self._nonce: int | None = None
        self._lock = asyncio.Lock()
        self.http = httpx.AsyncClient(base_url=self.url, timeout=10.0)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _send(self, kind: str, args: list[object]) -> str:
        from adapters.pujiang.actions import build_signed_tx

        async with self._lock:  # one nonce per transaction, in order
            if self._nonce is None:
                account = _check(await self.http.get(f"/v1/accounts/{self.address}"))
                self._nonce = int(account["nonce"])
            tx = build_signed_tx(self._signer, self.chain_id, self._nonce, kind, args)
            answer = _check(await self.http.post("/v1/txs", json={"tx": "0x" + tx.hex()}))
            self._nonce += 1
        return str(answer["tx_hash"])

    async def wait(self, tx_hash: str, timeout: float = TX_TIMEOUT) -> dict[str, Any]:
        """The committed transaction (with its events); ``HubError`` if it failed."""
        deadline = time.monotonic() + timeout
        while True:
            found = _check(await self.http.get(f"/v1/txs/{tx_hash}"))
            if found["status"] not in ("pending",):
                if found["status"] != "committed":
                    raise HubError(f"devnet tx {tx_hash} {found['status']}: {found.get('reason')}")
                return found  # type: ignore[no-any-return]
            if time.monotonic() > deadline:
                raise HubError(f"devnet tx {tx_hash} not committed within {timeout:.0f} s")
            await asyncio.sleep(0.2)

    async def lock(
        self, receiver: str, denom: str, amount: int, hashlock: bytes, timelock: int
    ) -> tuple[str, bytes]:
        """``htlc_lock`` (timelock in unix seconds, the module wants ms); (tx hash, htlc id)."""
        args = [bytes.fromhex(receiver[2:]), denom.encode(), amount, hashlock, timelock * 1000]
        tx_hash = await self._send("htlc_lock", args)
        found = await self.wait(tx_hash)
        for event in found.get("events", []):
            if event.get("kind") == "htlc_locked":
                return tx_hash, bytes.fromhex(event["attributes"]["htlc_id"].removeprefix("0x"))
        raise HubError(f"devnet tx {tx_hash} emitted no htlc_locked event")

    async def claim(self, htlc_id: bytes, preimage: bytes) -> str:
        tx_hash = await self._send("htlc_claim", [htlc_id, preimage])
        await self.wait(tx_hash)
        return tx_hash

    async def refund(self, htlc_id: bytes) -> str:
        tx_hash = await self._send("htlc_refund", [htlc_id])
        await self.wait(tx_hash)
        return tx_hash


class EvmParty:
    """One EVM account that locks and claims on ``HashedTimelock`` (signed here, EIP-1559)."""

    def __init__(self, rpc_url: str, evm_chain_id: int, htlc: str, key: str) -> None:
        from eth_account import Account

        from adapters.evm.artifacts import load_artifact
        from adapters.evm.rpc import JsonRpcClient

        self.evm_chain_id, self.htlc = evm_chain_id, htlc.lower()
        self._account = Account.from_key(key)
        self.address = self._account.address.lower()
        self.rpc = JsonRpcClient(rpc_url, timeout=10.0)
        self.artifact, self.erc20 = load_artifact("HashedTimelock"), load_artifact("WrappedToken")
        self._nonce: int | None = None
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.rpc.aclose()

    async def _send(self, to: str, data: bytes, value: int = 0, gas: int = 300_000) -> str:
        from eth_utils import to_checksum_address

        async with self._lock:
            if self._nonce is None:
                self._nonce = int(
                    await self.rpc.call("eth_getTransactionCount", self.address, "pending"), 16
                )
            block = await self.rpc.call("eth_getBlockByNumber", "latest", False)
            tip = 10**9
            tx = {
                "chainId": self.evm_chain_id,
                "nonce": self._nonce,
                "to": to_checksum_address(to),
                "data": data,
                "value": value,
                "gas": gas,
                "maxPriorityFeePerGas": tip,
                "maxFeePerGas": 2 * int(block["baseFeePerGas"], 16) + tip,
                "type": 2,
            }
            raw = bytes(self._account.sign_transaction(tx).raw_transaction)
            tx_hash = await self.rpc.call("eth_sendRawTransaction", "0x" + raw.hex())
            self._nonce += 1
        return str(tx_hash)

    async def wait(self, tx_hash: str, timeout: float = TX_TIMEOUT) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (receipt := await self.rpc.call("eth_getTransactionReceipt", tx_hash)) is None:
            if time.monotonic() > deadline:
                raise HubError(f"{tx_hash} was not mined within {timeout:.0f} s")
            await asyncio.sleep(0.2)
        if int(receipt["status"], 16) != 1:
            raise HubError(f"{tx_hash} reverted")
        return receipt  # type: ignore[no-any-return]

    async def approve(self, token: str, amount: int) -> None:
        """Let ``HashedTimelock`` pull ``amount`` of an ERC-20 (once, before locking)."""
        await self.wait(
            await self._send(token, self.erc20.encode_call("approve", self.htlc, amount))
        )

    async def lock(
        self, receiver: str, asset: str, amount: int, hashlock: bytes, timelock: int
    ) -> tuple[str, bytes]:
        """``HashedTimelock.lock``; (tx hash, lock id from the ``Locked`` event)."""
        token = "0x" + "00" * 20 if asset == NATIVE else asset
        data = self.artifact.encode_call("lock", receiver, hashlock, timelock, token, amount)
        tx_hash = await self._send(self.htlc, data, value=amount if asset == NATIVE else 0)
        receipt = await self.wait(tx_hash)
        for log in receipt["logs"]:
            topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
            decoded = self.artifact.decode_log(topics, bytes.fromhex(log["data"][2:]))
            if log["address"].lower() == self.htlc and decoded and decoded[0] == "Locked":
                return tx_hash, topics[1]
        raise HubError(f"{tx_hash} emitted no Locked event")

    async def claim(self, lock_id: bytes, preimage: bytes) -> str:
        tx_hash = await self._send(self.htlc, self.artifact.encode_call("claim", lock_id, preimage))
        await self.wait(tx_hash)
        return tx_hash

    async def refund(self, lock_id: bytes) -> str:
        tx_hash = await self._send(self.htlc, self.artifact.encode_call("refund", lock_id))
        await self.wait(tx_hash)
        return tx_hash


def party_for(stack: dict[str, Any], chain_id: str, address: str) -> DevnetParty | EvmParty:
    """The dev account of ``stack.json`` that owns ``address`` on ``chain_id``."""
    chain = stack.get("chains", {}).get(chain_id)
    if chain is None:
        raise NotFound(f"the dev stack has no chain {chain_id!r}")
    for name, accounts in stack.get("accounts", {}).items():
        account = accounts.get(chain_id)
        if account and account["address"].lower() == address.lower():
            if chain["family"] == "pujiang":
                return DevnetParty(chain["url"], chain_id, bytes.fromhex(account["key"]))
            if not chain.get("htlc"):
                raise ConfigError(f"{chain_id} has no HashedTimelock in stack.json")
            return EvmParty(chain["rpc_url"], chain["evm_chain_id"], chain["htlc"], account["key"])
        del name
    raise NotFound(f"{address} on {chain_id} is none of the dev accounts: it must lock itself")


# --- commands ------------------------------------------------------------------------------------


def _parse_leg(text: str, stack: dict[str, Any], what: str) -> tuple[str, str, int]:
    """``CHAIN:ASSET:AMOUNT``; ``TT`` is the stack's test token, ``ETH`` the native coin."""
    parts = text.split(":")
    if len(parts) != 3 or not parts[2].isdigit():
        raise InvalidInput(f"{what}: CHAIN:ASSET:AMOUNT, e.g. pujiang-devnet:upj:1000", field=what)
    chain_id, asset, amount = parts[0], parts[1], int(parts[2])
    chain = stack.get("chains", {}).get(chain_id, {})
    if chain.get("family") == "evm":
        if asset.upper() in ("ETH", "NATIVE"):
            asset = NATIVE
        elif asset.upper() == "TT" and chain.get("test_token"):
            asset = chain["test_token"].lower()
    return chain_id, asset, amount


def _address(stack: dict[str, Any], name: str, chain_id: str) -> str:
    account = stack.get("accounts", {}).get(name, {}).get(chain_id)
    if account is None:
        if name.startswith("0x"):
            return name
        raise ConfigError(f"no dev account {name!r} on {chain_id} (or pass a 0x address)")
    return str(account["address"])


def _swaps_dir(stack: dict[str, Any], dev_dir: Path | None) -> Path:
    base = Path(stack.get("data_dir") or dev_dir or "var/dev")
    path = base / "swaps"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _save_secret(path: Path, payload: dict[str, str]) -> None:
    from devtools.devstack import write_secret

    write_secret(path, json.dumps(payload) + "\n")


def _load_secret(stack: dict[str, Any], dev_dir: Path | None, swap_id: str) -> bytes:
    path = _swaps_dir(stack, dev_dir) / f"{swap_id}.json"
    try:
        return bytes.fromhex(json.loads(path.read_text())["preimage"])
    except (OSError, ValueError, KeyError):
        raise NotFound(f"no secret for {swap_id} in {path.parent}: was it proposed here?") from None


@swap_app.command("propose")
def propose(
    give: Annotated[str, typer.Option(help="Leg 1, the initiator's: CHAIN:ASSET:AMOUNT")],
    get: Annotated[str, typer.Option(help="Leg 2, the responder's: CHAIN:ASSET:AMOUNT")],
    initiator: Annotated[str, typer.Option(help="Dev account (or address) giving leg 1")] = "alice",
    responder: Annotated[str, typer.Option(help="Dev account (or address) giving leg 2")] = "bob",
    delegate_claim: Annotated[
        bool, typer.Option(help="Let the hub claim leg 2 for the initiator (secret via /claim)")
    ] = True,
    quiet: Annotated[bool, typer.Option(help="Print only the swap id")] = False,
    hub: HubOption = None,
    api_key: KeyOption = None,
    dev_dir: DevDirOption = None,
) -> None:
    """Pick a secret, propose the swap to the hub with its hashlock, keep the secret locally."""
    stack = _stack(dev_dir)
    chain_a, asset_a, amount_a = _parse_leg(give, stack, "--give")
    chain_b, asset_b, amount_b = _parse_leg(get, stack, "--get")
    preimage = secrets.token_bytes(32)
    hashlock = hashlib.sha256(preimage).digest()
    body = {
        "leg1": {
            "chain_id": chain_a,
            "sender": _address(stack, initiator, chain_a),
            "receiver": _address(stack, responder, chain_a),
            "asset": asset_a,
            "amount": str(amount_a),
        },
        "leg2": {
            "chain_id": chain_b,
            "sender": _address(stack, responder, chain_b),
            "receiver": _address(stack, initiator, chain_b),
            "asset": asset_b,
            "amount": str(amount_b),
        },
        "hashlock": "0x" + hashlock.hex(),
        "delegate": {"claim_leg2": delegate_claim},
    }
    base = _hub(hub, stack)
    headers = {**_headers(api_key, stack), "Idempotency-Key": str(uuid.uuid4())}
    with _reaching(base), httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        swap = _check(client.post("/v1/swaps", json=body))
    _save_secret(
        _swaps_dir(stack, dev_dir) / f"{swap['id']}.json",
        {"id": swap["id"], "hashlock": body["hashlock"], "preimage": preimage.hex()},
    )
    if quiet:
        print(swap["id"])
        return
    leg1, leg2 = swap["legs"]
    now = time.time()
    console.print(f"[green]swap[/] {swap['id']} proposed, hashlock {body['hashlock']}")
    for name, leg in (("leg 1", leg1), ("leg 2", leg2)):
        left = leg["timelock"] - now
        console.print(
            f"  {name} {leg['chain_id']}: {leg['amount']} {escape(leg['asset'])}, "
            f"refundable in {left:.0f} s"
        )
    console.print(
        f"  delta (T1 - T2) {swap.get('delta_seconds')} s; "
        f"the secret stays in {_swaps_dir(stack, dev_dir)}"
    )
    console.print(f"next: pjgw swap lock {swap['id']} --leg 1")


def _read_swap(client: httpx.Client, swap_id: str) -> dict[str, Any]:
    return _check(client.get(f"/v1/swaps/{swap_id}"))  # type: ignore[no-any-return]


@swap_app.command("lock")
def lock(
    swap_id: Annotated[str, typer.Argument(help="The swap's id (sw_…)")],
    leg: Annotated[int, typer.Option(min=1, max=2, help="1: the initiator's, 2: the responder's")],
    wait_leg1: Annotated[
        float, typer.Option(help="Leg 2: seconds to wait for the hub to see leg 1 locked")
    ] = 60.0,
    hub: HubOption = None,
    api_key: KeyOption = None,
    dev_dir: DevDirOption = None,
) -> None:
    """Lock one leg on its chain as its sender (with the dev key of that address)."""
    stack = _stack(dev_dir)
    base = _hub(hub, stack)
    deadline = time.monotonic() + wait_leg1
    with _reaching(base), httpx.Client(base_url=base, headers=_headers(api_key, stack)) as client:
        swap = _read_swap(client, swap_id)
        if leg == 2:  # the responder locks only when the hub says leg 1 is final with time left
            while (answer := client.get(f"/v1/swaps/{swap_id}/leg2-check")).status_code != 200:
                problem = answer.json()
                if not problem.get("retryable") or time.monotonic() > deadline:
                    console.print(f"[yellow]not locking leg 2: {escape(problem['detail'])}[/]")
                    raise typer.Exit(1)
                time.sleep(1.0)
            swap = _read_swap(client, swap_id)
    terms = swap["legs"][leg - 1]
    if terms["state"] != "pending":
        raise InvalidInput(f"leg {leg} is already {terms['state']}")
    hashlock = bytes.fromhex(swap["hashlock"][2:])
    tx_hash, lock_id = asyncio.run(_lock(stack, terms, hashlock))
    console.print(f"[green]locked[/] leg {leg} on {terms['chain_id']}: tx {tx_hash}")
    console.print(f"  lock id 0x{lock_id.hex()}")
    console.print(
        f"next: pjgw swap lock {swap_id} --leg 2"
        if leg == 1
        else f"next: pjgw swap claim {swap_id}"
    )


async def _lock(stack: dict[str, Any], terms: dict[str, Any], hashlock: bytes) -> tuple[str, bytes]:
    party = party_for(stack, terms["chain_id"], terms["sender"])
    try:
        amount = int(terms["amount"])
        if isinstance(party, EvmParty) and terms["asset"] != NATIVE:
            await party.approve(terms["asset"], amount)
        return await party.lock(
            terms["receiver"], terms["asset"], amount, hashlock, terms["timelock"]
        )
    finally:
        await party.aclose()


@swap_app.command("claim")
def claim(
    swap_id: Annotated[str, typer.Argument(help="The swap's id (sw_…)")],
    hub: HubOption = None,
    api_key: KeyOption = None,
    dev_dir: DevDirOption = None,
) -> None:
    """The initiator claims leg 2: through the hub when delegated, else on leg 2's chain."""
    stack = _stack(dev_dir)
    preimage = _load_secret(stack, dev_dir, swap_id)
    base = _hub(hub, stack)
    with _reaching(base), httpx.Client(base_url=base, headers=_headers(api_key, stack)) as client:
        swap = _read_swap(client, swap_id)
        leg2 = swap["legs"][1]
        if leg2["claim_delegated"]:
            body = {"preimage": "0x" + preimage.hex()}
            _check(client.post(f"/v1/swaps/{swap_id}/claim", json=body))
            console.print("[green]handed the secret to the hub[/]: it claims leg 2 for you")
            console.print(f"follow it: pjgw swap status {swap_id}")
            return
    if leg2["state"] != "locked" or not leg2["lock_id"]:
        raise InvalidInput(f"leg 2 is {leg2['state']}: nothing to claim yet")
    tx_hash = asyncio.run(_claim(stack, leg2, preimage))
    console.print(f"[green]claimed[/] leg 2 on {leg2['chain_id']}: tx {tx_hash}")


async def _claim(stack: dict[str, Any], leg: dict[str, Any], preimage: bytes) -> str:
    party = party_for(stack, leg["chain_id"], leg["receiver"])
    try:
        return await party.claim(bytes.fromhex(leg["lock_id"][2:]), preimage)
    finally:
        await party.aclose()


@swap_app.command("status")
def status(
    swap_id: Annotated[str, typer.Argument(help="The swap's id (sw_…)")],
    wait: Annotated[bool, typer.Option(help="Follow until completed or refunded")] = False,
    timeout: Annotated[float, typer.Option(help="Give up waiting after this many seconds")] = 900,
    hub: HubOption = None,
    api_key: KeyOption = None,
    dev_dir: DevDirOption = None,
) -> None:
    """The swap's state, each leg's, and its history (``--wait``: until terminal)."""
    stack = _stack(dev_dir)
    base = _hub(hub, stack)
    deadline = time.monotonic() + timeout
    seen = 0
    with _reaching(base), httpx.Client(base_url=base, headers=_headers(api_key, stack)) as client:
        while True:
            swap = _read_swap(client, swap_id)
            for line in swap["history"][seen:]:
                leg = f"leg {line['leg']}" if line.get("leg") else "     "
                console.print(f"{line['state']:19} {leg} {escape(line['reason'])}")
            seen = len(swap["history"])
            if not wait or swap["state"] in TERMINAL or time.monotonic() > deadline:
                break
            time.sleep(1.0)
    for leg in swap["legs"]:
        console.print(
            f"  leg {leg['leg']} {leg['chain_id']:15} {leg['state']:9} "
            f"{leg['amount']} {escape(leg['asset'])} -> {leg['receiver']}"
        )
    for tx in swap["transactions"]:
        console.print(f"  {tx['role']:12} {tx['chain_id']:15} {tx['tx_hash']}")
    colour = {"completed": "green", "refunded": "yellow"}.get(swap["state"], "bold")
    console.print(f"[{colour}]{swap['state']}[/] {swap_id}")


def register(app: typer.Typer) -> None:
    """Add ``swap`` to the ``pjgw`` app."""
    app.add_typer(swap_app, name="swap")


__all__ = ["DevnetParty", "EvmParty", "party_for", "register", "swap_app"]
