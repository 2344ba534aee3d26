"""Listing, proving and verifying EVM bridge events, per event, before and after (issue #15).

    .venv/bin/python bench/evm_events.py [--events 300] [--rounds 10]

What a notary does with each event of an anvil block it co-signs, and what the hub does
with the first two: ``EvmAdapter.events`` (the block's bridge logs decoded into
``ChainEvent``), ``prove_many`` (the block's receipts trie built once, each log's proof
cut from it) and, per proof, ``EvmLightClient.verify_membership`` then
``event_from_proof`` (the event decoded again from the proven bytes; ``notary/verify.py``).

One block of ``--events`` ``bridge.sendNative`` transactions is mined on a real anvil
and its JSON-RPC answers recorded; anvil is then stopped and the steps run against the
recording (no node, no sockets: what is timed is our CPU work), with the current code
and with the code before this change patched back in (``_before``), rounds alternating.
The best round of each is kept, timed by the process's CPU clock (the machine is
shared; time spent preempted is not the step's). Both ways must give equal events and
proofs, checked before timing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import rlp
from trie import HexaryTrie

from adapters.evm import adapter as evm_adapter
from adapters.evm.adapter import EvmAdapter
from adapters.evm.artifacts import Artifact
from adapters.evm.certificate import Packet
from adapters.evm.node import AnvilConfig, AnvilNode
from adapters.evm.rpc import JsonRpcClient
from adapters.evm.settings import EvmChainSettings
from core.errors import InvalidInput
from core.ids import Height
from core.types import ChainAction, ChainEvent, InclusionProof
from proofs import mpt
from proofs.evm import client
from proofs.evm.client import EvmConsensusState, decode_log_key
from proofs.evm.header import decode_header
from proofs.mpt import Log, Receipt, receipt_from_rpc

CHAIN_ID = 31337
LOCAL_CHAIN = "anvil-31337"
REMOTE_CHAIN = "pujiang-main"


class Recorder:
    """A ``Reader`` in front of the real one that keeps every answer (by method and params)."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.answers: dict[str, Any] = {}

    async def call(self, method: str, *params: Any) -> Any:
        answer = await self.reader.call(method, *params)
        self.answers[_key(method, params)] = answer
        return answer

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]], **kw: Any) -> list[Any]:
        answers = await self.reader.batch(calls, **kw)
        for (method, params), answer in zip(calls, answers, strict=True):
            self.answers[_key(method, params)] = answer
        return list(answers)


class Replay:
    """A ``Reader`` answering from a recording; a question not recorded is a bug here."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    async def call(self, method: str, *params: Any) -> Any:
        return self.answers[_key(method, params)]

    async def batch(self, calls: Sequence[tuple[str, Sequence[Any]]], **_: Any) -> list[Any]:
        return [self.answers[_key(method, params)] for method, params in calls]


def _key(method: str, params: Sequence[Any]) -> str:
    return json.dumps([method, list(params)], sort_keys=True)


@dataclass
class Block:
    """The recorded block: its height and hash, the answers, the verified consensus state."""

    settings: EvmChainSettings
    height: int
    answers: dict[str, Any]
    consensus: EvmConsensusState


async def _deploy(rpc: JsonRpcClient, name: str, *args: Any, sender: str) -> str:
    from adapters.evm.artifacts import load_artifact

    artifact = load_artifact(name)
    tx = {"from": sender, "data": "0x" + artifact.encode_deploy(*args).hex(), "gas": hex(10**7)}
    tx_hash = await rpc.call("eth_sendTransaction", tx)
    while (receipt := await rpc.call("eth_getTransactionReceipt", tx_hash)) is None:
        await asyncio.sleep(0.01)
    if int(receipt["status"], 16) != 1:
        raise SystemExit(f"deploying {name} failed")
    return str(receipt["contractAddress"]).lower()


async def record(node: AnvilNode, count: int) -> Block:
    """One block of ``count`` ``sendNative`` transactions, listed and proven once for the
    recording, its header verified from its parent."""
    async with JsonRpcClient(node.url) as rpc:
        admin = node.accounts[0].address
        bridge = await _deploy(rpc, "Bridge", LOCAL_CHAIN, admin, [admin], 1, sender=admin)
        htlc = await _deploy(rpc, "HashedTimelock", sender=admin)
        await rpc.call("anvil_setBlockTimestampInterval", 1)
        latest = await rpc.call("eth_getBlockByNumber", "latest", False)
    settings = EvmChainSettings(
        chain=LOCAL_CHAIN,
        rpc_url=node.url,
        evm_chain_id=CHAIN_ID,
        bridge_address=bridge,
        htlc_address=htlc,
        confirmations=0,
        insecure_plaintext_key=True,
        signer_key=node.accounts[1].private_key,
        receipt_poll_interval=0.005,
    )
    deadline = int(latest["timestamp"], 16) + 10**6
    actions = [
        ChainAction(
            "bridge.sendNative",
            {
                "args": [REMOTE_CHAIN, i.to_bytes(20, "big"), 0, deadline],
                "value": 1_000 + i,
                "gas": 200_000,
            },
            f"bench-{i}",
        )
        for i in range(1, count + 1)
    ]
    async with EvmAdapter(settings) as adapter:
        await adapter.reader.call("evm_setAutomine", False)
        try:
            sent = await adapter.submit_many(actions)
            await adapter.reader.call("evm_mine")
        finally:
            await adapter.reader.call("evm_setAutomine", True)
        receipts = await adapter.wait_receipts([h for h in sent if isinstance(h, bytes)])
        height = receipts[0].height
        if height is None or any(r.height != height for r in receipts) or len(receipts) != count:
            raise SystemExit("the transactions did not all land in one block")
        recorder = Recorder(adapter.reader)
        adapter.reader = recorder  # type: ignore[assignment]
        events = await adapter.events(Height(height), Height(height))
        if len(events) != count:
            raise SystemExit(f"{len(events)} events listed, {count} sent")
        await adapter.prove_many(events)
        client = adapter.light_client()
        parent = await adapter.header(Height(height - 1))
        trusted = client.consensus_state_from_checkpoint(
            adapter.chain_id, decode_header(parent.encoded), parent.hash
        )
        header = await adapter.header(Height(height))
        consensus = client.verify_header(settings.client_state(), trusted, header, header.time + 1)
    return Block(settings, height, recorder.answers, consensus)


class Steps:
    """The three steps on the recorded block, each over every event of it."""

    def __init__(self, block: Block) -> None:
        self.block = block
        self.adapter = EvmAdapter(block.settings)
        self.adapter.reader = Replay(block.answers)  # type: ignore[assignment]
        self.client = self.adapter.light_client()
        self.loop = asyncio.new_event_loop()

    def fresh(self) -> None:
        """Forget what the adapter keeps between calls (a new block for it)."""
        self.adapter._proof_cache.clear()
        self.adapter._forget_decoded()
        mpt._decode_shared_node.cache_clear()

    def list(self) -> list[ChainEvent]:
        height = Height(self.block.height)
        return self.loop.run_until_complete(self.adapter.events(height, height))

    def prove(self, events: list[ChainEvent]) -> list[InclusionProof]:
        return self.loop.run_until_complete(self.adapter.prove_many(events))

    def verify(self, events: list[ChainEvent], proofs: list[InclusionProof]) -> list[ChainEvent]:
        consensus = self.block.consensus
        out = []
        for event, proof in zip(events, proofs, strict=True):
            self.client.verify_membership(consensus, proof)
            out.append(self.adapter.event_from_proof(event, proof, consensus.hash))
        return out

    def all(self) -> tuple[list[ChainEvent], list[InclusionProof], list[ChainEvent]]:
        self.fresh()
        events = self.list()
        proofs = self.prove(events)
        return events, proofs, self.verify(events, proofs)


# --- the code before this change, as it was (patched back in by _before) -------------------


def _old_encode_log(log: Log) -> bytes:
    return rlp.encode([log.address, list(log.topics), log.data])


def _old_encode_log_key(tx_index: int, log_index: int) -> bytes:
    return rlp.encode([tx_index, log_index])


def _old_encode_receipt(receipt: Receipt) -> bytes:
    status_or_root = receipt.post_state if receipt.status is None else receipt.status
    logs = [[log.address, list(log.topics), log.data] for log in receipt.logs]
    payload = rlp.encode([status_or_root, receipt.cumulative_gas_used, receipt.logs_bloom, logs])
    return payload if receipt.tx_type == 0 else bytes([receipt.tx_type]) + payload


@dataclass(frozen=True, slots=True)
class _OldBlockReceipts:
    """``adapters.evm.adapter._BlockReceipts`` before: a ``HexaryTrie`` filled receipt by
    receipt, each proof's nodes re-encoded with ``rlp.encode``."""

    block_hash: bytes
    rpc: tuple[Mapping[str, Any], ...]
    receipts: tuple[Receipt, ...]
    trie: HexaryTrie
    root: bytes

    @classmethod
    def build(cls, block_hash: bytes, rpc_receipts: Sequence[Mapping[str, Any]]) -> Any:
        receipts = tuple(receipt_from_rpc(r) for r in rpc_receipts)
        trie = HexaryTrie({})
        for index, receipt in enumerate(receipts):
            trie.set(rlp.encode(index), _old_encode_receipt(receipt))
        return cls(block_hash, tuple(rpc_receipts), receipts, trie, trie.root_hash)

    def prove(self, tx_index: int) -> list[bytes]:
        encoded = [rlp.encode(node) for node in self.trie.get_proof(rlp.encode(tx_index))]
        return [node for i, node in enumerate(encoded) if i == 0 or len(node) >= 32]


def _old_event_from_proof(
    self: EvmAdapter, event: ChainEvent, proof: InclusionProof, header_hash: bytes
) -> ChainEvent:
    tx_index, log_index = decode_log_key(proof.key)
    if (
        tx_index != event.position[0]
        or log_index > event.position[1]
        or (event.raw and proof.value != event.raw)
    ):
        raise InvalidInput("the proof is for another log than the event", check="position")
    try:
        address, topics, data = rlp.decode(proof.value)
    except Exception as err:
        raise InvalidInput("the proven log does not decode", check="encoding") from err
    fresh = self.decode_event(
        {
            "address": "0x" + bytes(address).hex(),
            "topics": ["0x" + bytes(t).hex() for t in topics],
            "data": "0x" + bytes(data).hex(),
            "blockHash": "0x" + header_hash.hex(),
            "blockNumber": hex(event.height),
            "transactionHash": "0x" + event.tx_hash.hex(),
            "transactionIndex": hex(tx_index),
            "logIndex": hex(event.position[1]),
        }
    )
    if fresh is None:
        raise InvalidInput("the proven log is not a bridge event", check="kind")
    return fresh


def _old_decode_event(self: EvmAdapter, log: dict[str, Any]) -> ChainEvent | None:
    _hash, _bytes, _int = evm_adapter._hash, evm_adapter._bytes, evm_adapter._int
    address = str(log["address"]).lower()
    artifact = self._artifact_at(address)
    topics = [_hash(t, "topic") for t in log["topics"]]
    data = _bytes(log["data"], "log data")
    decoded = artifact.decode_log(topics, data)
    if decoded is None:
        return None
    name, args = decoded
    kind = evm_adapter.EVENT_KINDS.get((artifact.name, name))
    if kind is None:
        return None
    block_hash = _hash(log["blockHash"], "blockHash")
    attributes: dict[str, object] = {
        "event": name,
        "contract": address,
        "block_hash": block_hash,
        **{k: Packet.from_abi(v) if k == "packet" else v for k, v in args.items()},
    }
    raw = _old_encode_log(Log(bytes.fromhex(address[2:]), tuple(topics), data))
    return ChainEvent(
        chain_id=self.chain_id,
        height=Height(_int(log["blockNumber"], "blockNumber")),
        kind=kind,
        tx_hash=_hash(log["transactionHash"], "transactionHash"),
        position=(
            _int(log["transactionIndex"], "transactionIndex"),
            _int(log["logIndex"], "logIndex"),
        ),
        attributes=attributes,
        raw=raw,
    )


@contextmanager
def _before() -> Iterator[None]:
    """The code before this change: ``rlp.encode`` everywhere, the receipts trie filled
    with ``HexaryTrie.set``, proof nodes re-encoded per proof and decoded per proof, each
    log ABI-decoded with eth-abi's decoders when listed and again when its proof is
    checked."""
    patches: list[tuple[Any, str, Any]] = [
        (client, "encode_log", _old_encode_log),
        (client, "encode_log_key", _old_encode_log_key),
        (evm_adapter, "encode_log", _old_encode_log),
        (evm_adapter, "encode_log_key", _old_encode_log_key),
        (evm_adapter, "encode_receipt", _old_encode_receipt),
        (mpt, "encode_receipt", _old_encode_receipt),
        (mpt, "rlp_of", rlp.encode),
        (mpt, "_decode_node", mpt.decode_rlp),
        (evm_adapter, "_BlockReceipts", _OldBlockReceipts),
        (EvmAdapter, "decode_event", _old_decode_event),
        (EvmAdapter, "event_from_proof", _old_event_from_proof),
        (Artifact, "decode_log", Artifact.reference_decode_log),
    ]
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in patches]
    for owner, name, value in patches:
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def _cpu(step: Callable[[], object]) -> float:
    start = time.process_time()
    step()
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--profile", action="store_true", help="cProfile the current code")
    args = parser.parse_args()
    with AnvilNode(AnvilConfig(chain_id=CHAIN_ID, accounts=3)) as node:
        block = asyncio.run(record(node, args.events))
    steps = Steps(block)
    after = steps.all()
    with _before():
        before = steps.all()
    if before != after:
        raise SystemExit("the code before and after give different events or proofs")
    n = len(after[0])
    if args.profile:
        import cProfile
        import pstats

        with cProfile.Profile() as profile:
            for _ in range(args.rounds):
                steps.all()
        pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        return

    def timings() -> dict[str, float]:
        steps.fresh()
        events: list[ChainEvent] = []
        proofs: list[InclusionProof] = []
        out = {"list": _cpu(lambda: events.extend(steps.list()))}
        out["prove"] = _cpu(lambda: proofs.extend(steps.prove(events)))
        out["verify"] = _cpu(lambda: steps.verify(events, proofs))
        out["total"] = sum(out.values())
        return out

    best: dict[tuple[str, str], float] = {}
    for _ in range(args.rounds):
        for label in ("before", "after"):
            if label == "before":
                with _before():
                    took = timings()
            else:
                took = timings()
            for name, seconds in took.items():
                best[name, label] = min(best.get((name, label), seconds), seconds)
    print(f"one block of {n} SendPacket logs (anvil, recorded), best of {args.rounds} rounds")
    print(f"{'step (µs per event)':40} {'before':>9} {'after':>9} {'ratio':>7}")
    labels = {
        "list": "list: events() decode",
        "prove": "prove: prove_many (trie + proofs)",
        "verify": "verify: verify_membership + event_from_proof",
        "total": "list + prove + verify",
    }
    for name, label in labels.items():
        old, new = best[name, "before"] / n * 1e6, best[name, "after"] / n * 1e6
        print(f"{label:40} {old:9.1f} {new:9.1f} {old / new:6.2f}x")


if __name__ == "__main__":
    main()
