"""Building and naming the relayer's Pujiang batch transaction, before and after splicing (#15).

    .venv/bin/python bench/pujiang_batch_tx.py [--members 128] [--rounds 20]

The relayer signs one ``bridge_recv_batch`` (or refund / ack batch) per slice of a stored
root: ``PujiangAdapter._submit`` builds it from the action's payload and names it by its
hash. Before: the members were decoded into ``codec.BatchMember`` objects, turned into raw
lists (``to_raw``), put in a ``TxBody``, encoded for the signing message and again inside
the ``Transaction``, and the signed bytes decoded once more to hash them. After: the
statement is checked by a strict decode and the members by ``codec.check_batch_members``
(the same decision, without objects), both spliced into the body as they came
(``actions.tx_args_rlp``, ``codec.encode_tx_body``), and the hash is ``H(tx)``. Both
paths are timed in the same process on the same payloads, rounds alternating, best round
of each by the process's CPU clock. ``tests/adapters/test_pujiang_tx_assembly.py`` holds
the two byte-equal. Then each packet's batch leaf and member as ``PujiangBridge`` builds
them (for the root, the notaries' check and the action): through ``codec.Packet`` and
``codec.BatchMember`` objects before, from the packet's fields' RLP after.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import rlp

from adapters.pujiang import actions
from adapters.pujiang.bridge import to_wire_packet, wire_packet_rlp
from core.ids import ChainId
from core.types import Packet
from proofs.pujiang import codec

SIGNER = actions.TxSigner(bytes(range(32)))
CHAIN = "pj-bench"


def payload(members: int, salt: int) -> dict[str, object]:
    """A ``bridge_recv_batch`` payload of ``members`` transfers (proofs of depth 7)."""
    statement = codec.BatchStatement(b"evm-bench", CHAIN.encode(), 1, 0, members, bytes(32))
    wire = [
        codec.BatchMember(
            packet=codec.Packet(
                b"evm-bench", CHAIN.encode(), salt * members + i + 1, bytes([i % 256]) * 20,
                bytes([(i * 7) % 256]) * 32, b"upj", 10**18 + i, b"", 0, 1_800_000_000_000 + i,
            ),
            index=i,
            proof=[bytes([i % 256, d]) * 16 for d in range(7)],
        )
        for i in range(members)
    ]  # fmt: skip
    kind = actions.BRIDGE_RECV_BATCH
    encoded = [codec.encode(m) for m in wire]
    return dict(actions.batch_members_action(kind, statement, encoded, idempotency_key="k").payload)


def before(nonce: int, data: dict[str, object]) -> bytes:
    """``_submit``'s build and hash as they were (the sedes path)."""
    args = actions.tx_args(actions.BRIDGE_RECV_BATCH, data)
    body = codec.TxBody(
        chain_id=CHAIN.encode(),
        nonce=nonce,
        kind=actions.BRIDGE_RECV_BATCH.encode(),
        args=codec.to_raw(args),  # type: ignore[arg-type]
    )
    signature = SIGNER._signer.sign_digest(codec.compute_tx_signing_message(body))
    tx = codec.encode(codec.Transaction(body=body, pubkey=SIGNER.pubkey, signature=signature))
    return codec.compute_tx_hash(codec.decode_transaction(tx))


def after(nonce: int, data: dict[str, object]) -> bytes:
    """``_submit``'s build and hash now."""
    kind = actions.BRIDGE_RECV_BATCH
    args_rlp = actions.tx_args_rlp(kind, data)
    return codec.SHA256(actions.build_signed_tx_rlp(SIGNER, CHAIN, nonce, kind, args_rlp))


def best_round(
    step: Callable[[int, dict[str, object]], bytes], batches: list[dict[str, object]]
) -> float:
    start = time.process_time()
    for nonce, data in enumerate(batches):
        step(nonce, data)
    return (time.process_time() - start) / len(batches)


def core_packets(n: int) -> list[Packet]:
    return [
        Packet(
            ChainId("evm-bench"), ChainId(CHAIN), i + 1, bytes([i % 256]) * 20,
            bytes([(i * 7) % 256]) * 32, "upj", 10**18 + i, b"", 0, 1_800_000_000_000 + i,
        )
        for i in range(n)
    ]  # fmt: skip


def leaf_and_member_before(packets: list[Packet]) -> None:
    """A batch's leaf and member of each packet as the bridge built them: sedes objects."""
    for i, packet in enumerate(packets):
        wire = to_wire_packet(packet)
        codec.compute_packet_digest(wire)
        rlp.encode(codec.BatchMember(packet=wire, index=i, proof=[bytes(32)] * 7))


def leaf_and_member_after(packets: list[Packet]) -> None:
    """The same now: the packet's RLP assembled once from its fields (``wire_packet_rlp``)."""
    for i, packet in enumerate(packets):
        codec.compute_packet_digest_of_rlp(wire_packet_rlp(packet))
        codec.batch_member_rlp(wire_packet_rlp(packet), i, [bytes(32)] * 7)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=128, help="members per transaction")
    parser.add_argument("--batches", type=int, default=40, help="transactions per round")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    batches = [payload(args.members, salt) for salt in range(args.batches)]
    assert all(before(n, b) == after(n, b) for n, b in enumerate(batches[:3]))
    old: list[float] = []
    new: list[float] = []
    for _ in range(args.rounds):
        old.append(best_round(before, batches))
        new.append(best_round(after, batches))
    b, a = min(old), min(new)
    print(
        f"{args.members} members a transaction, {args.batches} transactions, best of {args.rounds}"
    )
    for name, value in (("before (sedes path, decode to hash)", b), ("after (spliced, H(tx))", a)):
        per_member = value / args.members * 1e6
        print(f"  {name:36}: {value * 1e3:7.2f} ms a transaction ({per_member:6.1f} µs a member)")
    print(f"  ratio: x{b / a:.2f}")
    packets = core_packets(args.members * 8)
    timings: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(args.rounds):
        for name, step in (("before", leaf_and_member_before), ("after", leaf_and_member_after)):
            start = time.process_time()
            step(packets)
            timings[name].append((time.process_time() - start) / len(packets))
    b, a = min(timings["before"]), min(timings["after"])
    print(f"a packet's batch leaf and member (PujiangBridge), {len(packets)} packets:")
    print(f"  before (sedes objects): {b * 1e6:6.1f} µs; after (assembled): {a * 1e6:6.1f} µs")
    print(f"  ratio: x{b / a:.2f}")


if __name__ == "__main__":
    main()
