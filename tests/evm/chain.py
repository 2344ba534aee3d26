"""A synchronous test facade over the async JSON-RPC client and a running anvil.

Tests read as plain calls (``bridge.transact("sendNative", ...)``) while every
request still goes through ``adapters.evm.rpc.JsonRpcClient``, on one event
loop owned by the facade. Transactions come from anvil's unlocked dev
accounts (``eth_sendTransaction``); the gas is estimated first, so a revert
surfaces as ``ChainRejected`` carrying the contract's reason.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from adapters.evm.artifacts import Artifact, load_artifact
from adapters.evm.rpc import JsonRpcClient
from core.errors import ChainRejected

T = TypeVar("T")
FIXED_GAS = 5_000_000  # for transactions that are meant to fail on-chain


@dataclass(frozen=True)
class Event:
    """A decoded log: the emitting contract's address, event name and arguments."""

    address: str
    name: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Receipt:
    tx_hash: str
    status: int
    block_number: int
    gas_used: int
    events: list[Event]

    def named(self, name: str) -> list[Event]:
        return [e for e in self.events if e.name == name]


class Chain:
    """One anvil node, seen through the project's RPC client."""

    def __init__(self, url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self.rpc = JsonRpcClient(url, timeout=10.0)
        self.contracts: dict[str, Contract] = {}  # lower-case address -> contract, to decode logs

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(coroutine)

    def call(self, method: str, *params: Any) -> Any:
        return self.run(self.rpc.call(method, *params))

    def close(self) -> None:
        self.run(self.rpc.aclose())
        self._loop.close()

    # -- reads

    def chain_id(self) -> int:
        return int(self.call("eth_chainId"), 16)

    def block_number(self) -> int:
        return int(self.call("eth_blockNumber"), 16)

    def timestamp(self) -> int:
        return int(self.call("eth_getBlockByNumber", "latest", False)["timestamp"], 16)

    def balance(self, address: str) -> int:
        return int(self.call("eth_getBalance", address, "latest"), 16)

    # -- writes

    def send(self, tx: dict[str, Any], *, gas: int | None = None) -> Receipt:
        """Estimate (a revert raises ``ChainRejected``), send, and return the mined receipt."""
        tx = {k: hex(v) if isinstance(v, int) else v for k, v in tx.items()}
        tx["gas"] = hex(gas) if gas else hex(int(int(self.call("eth_estimateGas", tx), 16) * 1.3))
        tx_hash = self.call("eth_sendTransaction", tx)
        raw = self.wait_receipt(tx_hash)
        return Receipt(
            tx_hash=tx_hash,
            status=int(raw["status"], 16),
            block_number=int(raw["blockNumber"], 16),
            gas_used=int(raw["gasUsed"], 16),
            events=self._decode_logs(raw["logs"]),
        )

    def wait_receipt(self, tx_hash: str, timeout: float = 10.0) -> dict[str, Any]:
        """The raw receipt, polled: anvil may answer the send before the block is sealed."""
        deadline = time.monotonic() + timeout
        while (raw := self.call("eth_getTransactionReceipt", tx_hash)) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{tx_hash} not mined within {timeout} s")
            time.sleep(0.005)
        return raw

    def deploy(self, artifact: Artifact | str, *args: Any, sender: str) -> Contract:
        if isinstance(artifact, str):
            artifact = load_artifact(artifact)
        receipt_hash = self.call(
            "eth_sendTransaction",
            {"from": sender, "data": "0x" + artifact.encode_deploy(*args).hex(), "gas": hex(10**7)},
        )
        raw = self.wait_receipt(receipt_hash)
        if int(raw["status"], 16) != 1:
            raise AssertionError(f"deploying {artifact.name} failed")
        return self.at(artifact, raw["contractAddress"])

    def at(self, artifact: Artifact | str, address: str) -> Contract:
        if isinstance(artifact, str):
            artifact = load_artifact(artifact)
        contract = Contract(self, artifact, address.lower())
        self.contracts[contract.address] = contract
        return contract

    def _decode_logs(self, logs: list[dict[str, Any]]) -> list[Event]:
        events = []
        for log in logs:
            contract = self.contracts.get(log["address"].lower())
            if contract is None:
                continue
            topics = [bytes.fromhex(t[2:]) for t in log["topics"]]
            decoded = contract.artifact.decode_log(topics, bytes.fromhex(log["data"][2:]))
            if decoded is not None:
                events.append(Event(contract.address, *decoded))
        return events

    # -- test-only node controls

    def snapshot(self) -> str:
        return self.call("evm_snapshot")

    def revert(self, snapshot_id: str) -> None:
        if not self.call("evm_revert", snapshot_id):
            raise AssertionError(f"evm_revert({snapshot_id}) failed")

    def increase_time(self, seconds: int) -> None:
        self.call("evm_increaseTime", seconds)
        self.call("evm_mine")


@dataclass(frozen=True)
class Contract:
    chain: Chain
    artifact: Artifact
    address: str

    def view(self, fn: str, *args: Any, sender: str | None = None) -> Any:
        tx = {"to": self.address, "data": "0x" + self.artifact.encode_call(fn, *args).hex()}
        if sender:
            tx["from"] = sender
        result = self.chain.call("eth_call", tx, "latest")
        return self.artifact.decode_output(fn, bytes.fromhex(result[2:]))

    def transact(self, fn: str, *args: Any, sender: str, value: int = 0) -> Receipt:
        receipt = self.chain.send(self._tx(fn, args, sender, value))
        if receipt.status != 1:
            raise AssertionError(f"{fn} was mined but failed")
        return receipt

    def revert_reason(self, fn: str, *args: Any, sender: str, value: int = 0) -> str:
        """Run ``fn`` as a real transaction that must fail on-chain; return the node's reason.

        The reason comes from ``eth_call`` on the same state (anvil's receipts carry no
        reason); the transaction itself is then mined with a fixed gas limit and must
        end with status 0, so the rejection is the contract's, not the client's.
        """
        tx = self._tx(fn, args, sender, value)
        try:
            self.chain.call(
                "eth_call", {k: hex(v) if isinstance(v, int) else v for k, v in tx.items()}
            )
        except ChainRejected as err:
            reason = err.details["reason"]
        else:
            raise AssertionError(f"{fn} did not revert")
        receipt = self.chain.send(tx, gas=FIXED_GAS)
        if receipt.status != 0:
            raise AssertionError(f"{fn} reverted in eth_call but succeeded when mined")
        return str(reason)

    def _tx(self, fn: str, args: tuple[Any, ...], sender: str, value: int) -> dict[str, Any]:
        data = "0x" + self.artifact.encode_call(fn, *args).hex()
        tx: dict[str, Any] = {"from": sender, "to": self.address, "data": data}
        if value:
            tx["value"] = value
        return tx
