"""A notary signs a BATCH (issue #15) only after verifying every packet of it against a real
devnet node, with the root recomputed by itself from the packets it proved; one forged
packet refuses the whole batch and the refusal names its index."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from core.batches import BatchKind, BatchStatement
from core.errors import InvalidInput
from devnet import keys
from notary import FailedAt, Notary, WorkItem, WouldEquivocate
from notary.batches import BatchMemberRefused, BatchRootMismatch, BatchWork
from proofs.hashing import get_hash_function
from proofs.notary.batch import compute_batch_root
from proofs.notary.ecdsa import recover
from proofs.pujiang import codec
from tests.fixtures.anvil import LOCAL_CHAIN, Env
from tests.fixtures.devnet import CHAIN_ID as DEVNET
from tests.fixtures.devnet import DEVNET_SEED, InProcessDevnet
from tests.relayer.test_notary import OUT, Settings, close, make_notary, send_from_devnet

OWN_ANVIL = True


@pytest.fixture(scope="module")
def devnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessDevnet]:
    from devnet.api import create_app
    from devnet.config import NodeConfig
    from devnet.node import DevnetNode

    config = NodeConfig(
        data_dir=tmp_path_factory.mktemp("devnet-batches"), block_time=None, seed=DEVNET_SEED
    )
    node = DevnetNode(config)
    try:
        yield InProcessDevnet(node, httpx.ASGITransport(app=create_app(node)))
    finally:
        node.close()


def _root(notary: Notary, items: list[WorkItem]) -> bytes:
    """The root the hub would propose: the anvil bridge's leaves of the packets sent."""
    source = notary.adapters[DEVNET]
    bridge = notary.adapters[LOCAL_CHAIN].bridge()

    async def packets() -> list[object]:
        found = []
        for item in items:
            events = await source.events(item.height, item.height)
            (event,) = [e for e in events if tuple(e.position) == item.position]
            found.append(source.bridge().packet_of(event))
        return found

    leaves = [bridge.batch_leaf(p) for p in asyncio.get_event_loop().run_until_complete(packets())]
    return compute_batch_root(leaves, hash_fn=get_hash_function(bridge.batch_hash_name()))


def _work(items: list[WorkItem], root: bytes, **changes: object) -> BatchWork:
    work = BatchWork("ba_1", OUT, DEVNET, LOCAL_CHAIN, BatchKind.DELIVERY, 1, root, tuple(items))
    return dataclasses.replace(work, **changes)  # type: ignore[arg-type]


def test_a_notary_signs_a_batch_it_verified_packet_by_packet(
    devnet: InProcessDevnet, env: Env, evm_settings: Settings, tmp_path: Path
) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    notary = make_notary(devnet, evm_settings, tmp_path)
    try:
        items = [send_from_devnet(devnet) for _ in range(3)]
        root = _root(notary, items)
        work = _work(items, root)
        attestation = loop.run_until_complete(notary.attest_batch(work))
        again = loop.run_until_complete(notary.attest_batch(work))
        bridge = notary.adapters[LOCAL_CHAIN].bridge()
        expected = bridge.batch_digest(
            BatchStatement(DEVNET, LOCAL_CHAIN, 1, BatchKind.DELIVERY, 3, root)
        )
        # The same packets under another root (another order): equivocation, by index.
        other = _work(list(reversed(items)), _root(notary, list(reversed(items))))
        with pytest.raises(WouldEquivocate) as refused:
            loop.run_until_complete(notary.attest_batch(other))
    finally:
        loop.run_until_complete(close(notary))
        loop.close()
    assert attestation.digest == expected
    assert "0x" + recover(expected, attestation.signature).hex() == notary.address
    assert again == attestation  # the signed log answers the same batch with its signature
    assert refused.value.details["index"] == 0
    assert refused.value.details["rule"] == "equivocation"


FORGED = [
    # (what is broken, the batch's change, the refusal, the index it names)
    ("sequence of packet 1", {"member": 1, "sequence": 10_000}, "notary-packet-mismatch", 1),
    ("position of packet 2", {"member": 2, "position": (99,)}, "notary-event-not-found", 2),
    ("tx hash of packet 0", {"member": 0, "tx_hash": b"\x01" * 32}, "notary-event-not-found", 0),
    ("route of packet 1", {"member": 1, "dest_chain": "elsewhere"}, "batch-mixed-routes", 1),
]


@pytest.mark.parametrize(("broken", "change", "code", "index"), FORGED, ids=[f[0] for f in FORGED])
def test_one_forged_packet_refuses_the_whole_batch_naming_its_index(
    devnet: InProcessDevnet,
    env: Env,
    evm_settings: Settings,
    tmp_path: Path,
    broken: str,
    change: dict[str, object],
    code: str,
    index: int,
) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    notary = make_notary(devnet, evm_settings, tmp_path)
    try:
        items = [send_from_devnet(devnet) for _ in range(3)]
        root = _root(notary, items)
        fields = dict(change)
        member = int(fields.pop("member"))  # type: ignore[call-overload]
        items[member] = dataclasses.replace(items[member], **fields)  # type: ignore[arg-type]
        with pytest.raises(BatchMemberRefused) as refused:
            loop.run_until_complete(notary.attest_batch(_work(items, root)))
        signed = notary.signed_log.check_batch(OUT, "delivery", [i.sequence for i in items], b"x")
    finally:
        loop.run_until_complete(close(notary))
        loop.close()
    assert refused.value.details["index"] == index, broken
    assert refused.value.details["reason"] == code, broken
    assert f"packet {index}" in refused.value.message
    assert signed is None  # nothing of the batch was signed or logged


BAD_STATEMENT = [
    ("root", {"root": b"\x07" * 32}, "not 0x"),
    ("epoch", {"epoch": 2}, "epoch 2"),
]


@pytest.mark.parametrize(
    ("field", "change", "says"), BAD_STATEMENT, ids=[b[0] for b in BAD_STATEMENT]
)
def test_a_batch_whose_statement_is_not_the_notarys_own_computation_is_refused(
    devnet: InProcessDevnet,
    env: Env,
    evm_settings: Settings,
    tmp_path: Path,
    field: str,
    change: dict[str, object],
    says: str,
) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    notary = make_notary(devnet, evm_settings, tmp_path)
    try:
        items = [send_from_devnet(devnet) for _ in range(2)]
        work = dataclasses.replace(_work(items, _root(notary, items)), **change)  # type: ignore[arg-type]
        with pytest.raises(BatchRootMismatch) as refused:
            loop.run_until_complete(notary.attest_batch(work))
    finally:
        loop.run_until_complete(close(notary))
        loop.close()
    assert says in refused.value.message, field


ERROR_ACK_DOC = {
    "batch_id": "ba_1",
    "route_id": "r",
    "source_chain": "a",
    "dest_chain": "b",
    "kind": "error_ack",
    "epoch": 1,
    "size": 1,
    "root": "0x" + "aa" * 32,
    "members": [
        {
            "transfer_id": "t1",
            "route_id": "r",
            "source_chain": "a",
            "dest_chain": "b",
            "sequence": 4,
            "height": 9,
            "tx_hash": "0x" + "ab" * 32,
            "position": [2],
            "kind": "delivery",
            "failure": {"height": 12, "tx_hash": "0x" + "cd" * 32, "position": [0, 3]},
        }
    ],
}


def test_an_error_ack_batch_from_the_hub_carries_each_members_failure_event() -> None:
    work = BatchWork.from_json(ERROR_ACK_DOC)
    assert work.kind is BatchKind.ERROR_ACK
    assert work.members[0].failed_at == FailedAt(12, b"\xcd" * 32, (0, 3))


@pytest.mark.parametrize(
    ("field", "value"),
    [("tx_hash", "cd" * 32), ("height", -1), ("position", None)],
    ids=["tx-hash-not-0x", "negative-height", "no-position"],
)
def test_an_error_ack_member_with_a_malformed_failure_is_refused(field: str, value: object) -> None:
    member = dict(ERROR_ACK_DOC["members"][0])  # type: ignore[index]
    member["failure"] = {**member["failure"], field: value}
    with pytest.raises(InvalidInput, match="malformed"):
        BatchWork.from_json({**ERROR_ACK_DOC, "members": [member]})


def sends_in_one_block(devnet: InProcessDevnet, count: int) -> list[WorkItem]:
    """``count`` devnet sends committed in ONE block; their work items."""
    alice = keys.account_key(DEVNET_SEED, 0)
    nonce = devnet.node.committed_nonce(codec.compute_address(bytes(alice.verify_key)))
    deadline = (int(time.time()) + 3600) * 1000
    args = [LOCAL_CHAIN.encode(), b"\x33" * 20, b"upj", 10, 0, deadline]
    hashes = [
        devnet.node.submit(keys.sign_tx(alice, DEVNET, nonce + i, "bridge_send", args))
        for i in range(count)
    ]
    tip = devnet.node.produce_block()
    rows = devnet.node.query_events(tip.height, tip.height)["events"]  # type: ignore[index]
    items = []
    for tx_hash in hashes:
        (row,) = [r for r in rows if r["tx_hash"] == "0x" + tx_hash.hex()]  # type: ignore[index]
        items.append(
            WorkItem(
                transfer_id=f"t-{tip.height}-{row['index']}",  # type: ignore[index]
                route_id=OUT,
                source_chain=DEVNET,
                dest_chain=LOCAL_CHAIN,
                sequence=int(row["attributes"]["sequence"]),  # type: ignore[index]
                height=tip.height,
                tx_hash=tx_hash,
                position=(int(row["index"]),),  # type: ignore[index]
            )
        )
    return items


def test_a_batch_of_one_block_is_signed_with_its_proofs_fetched_in_one_request(
    devnet: InProcessDevnet, env: Env, evm_settings: Settings, tmp_path: Path
) -> None:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    notary = make_notary(devnet, evm_settings, tmp_path)
    source = notary.adapters[DEVNET]
    singles: list[object] = []
    honest_prove = source.prove

    async def counted(event: object) -> object:
        singles.append(event)
        return await honest_prove(event)

    source.prove = counted  # type: ignore[method-assign]
    try:
        items = sends_in_one_block(devnet, 4)
        attestation = loop.run_until_complete(
            notary.attest_batch(_work(items, _root(notary, items)))
        )
    finally:
        loop.run_until_complete(close(notary))
        loop.close()
    assert attestation.batch_id == "ba_1"
    assert singles == []  # no proof was fetched on its own


FORGED_PROOFS = [
    (
        "a path node",
        lambda p: dataclasses.replace(p, nodes=(b"\x00" * 32, *p.nodes[1:])),
        "root-mismatch",
    ),
    ("the leaf bytes", lambda p: dataclasses.replace(p, value=p.value + b"\x00"), "root-mismatch"),
    ("the leaf index", lambda p: dataclasses.replace(p, key=(7).to_bytes(8, "big")), "bad-proof"),
]


@pytest.mark.parametrize(
    ("broken", "forge", "code"), FORGED_PROOFS, ids=[f[0] for f in FORGED_PROOFS]
)
def test_a_forged_proof_among_a_blocks_fetched_proofs_refuses_the_batch(
    devnet: InProcessDevnet,
    env: Env,
    evm_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    broken: str,
    forge: object,
    code: str,
) -> None:
    """The proofs of a block's members come in one answer (``prove_many``); each is still
    verified alone, so a node that forges one of them gets the batch refused, naming it."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    notary = make_notary(devnet, evm_settings, tmp_path)
    source = notary.adapters[DEVNET]
    honest = source.prove_many
    asked: list[int] = []

    async def forging(events: list[object]) -> list[object]:
        proofs = list(await honest(events))
        asked.append(len(events))
        proofs[1] = forge(proofs[1])  # type: ignore[operator]
        return proofs

    try:
        items = sends_in_one_block(devnet, 3)
        root = _root(notary, items)
        monkeypatch.setattr(source, "prove_many", forging)
        with pytest.raises(BatchMemberRefused) as refused:
            loop.run_until_complete(notary.attest_batch(_work(items, root)))
        signed = notary.signed_log.check_batch(OUT, "delivery", [i.sequence for i in items], b"x")
    finally:
        loop.run_until_complete(close(notary))
        loop.close()
    assert asked, "the members' proofs were fetched with prove_many"
    assert refused.value.details["index"] == 1, broken
    assert refused.value.details["reason"] == code, broken
    assert signed is None
