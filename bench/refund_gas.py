"""Gas per refunded packet on ``Bridge.sol``: one certificate per refund vs refund batches (#15).

    .venv/bin/python bench/refund_gas.py            # a real anvil, about ten seconds
    .venv/bin/python bench/refund_gas.py --quick    # batches of 1 and 16 only

Measured on a real anvil (gas is deterministic; no wall time is reported):

* the baseline, in the same run: ``timeoutPacket`` of 16 packets, each with its own
  3-of-4 non-delivery certificate (the per-packet refund), gas per packet;
* ``NONDELIVERY`` batches of 1, 16, 64 and 128 packets (128: ``batch_capacity()``,
  what the relayer puts in one chunk): ``submitRoot`` (one 3-of-4 certificate)
  plus ``refundBatch`` of all members in one transaction, gas per packet, and the
  ratio to the baseline. An ``ERROR_ACK`` root is refunded by the same
  ``refundBatch``, at the same cost.

Every packet is a ``sendNative`` of this chain's coin from one sender, so each
refund releases escrow back to it (no fresh storage slot on either side).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [str(_HERE.parent)] + [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from adapters.evm.certificate import (  # noqa: E402
    BridgeDomain,
    Packet,
    certify,
    compute_not_delivered_digest,
)
from adapters.evm.node import AnvilConfig, AnvilNode  # noqa: E402
from core.batches import BatchKind  # noqa: E402
from tests.evm.batches import make_batch  # noqa: E402
from tests.evm.chain import Chain  # noqa: E402
from tests.fixtures.anvil import CHAIN_ID, LOCAL_CHAIN, REMOTE_CHAIN, make_committee  # noqa: E402

THRESHOLD = 3
BASELINE_PACKETS = 16
AMOUNT = 1_000


class Bench:
    def __init__(self, chain: Chain, admin: str, relayer: str, sender: str) -> None:
        self.chain = chain
        self.relayer = relayer
        self.sender = sender
        self.committee = make_committee("notary", 4)
        self.bridge = chain.deploy(
            "Bridge",
            LOCAL_CHAIN,
            admin,
            [n.address for n in self.committee],
            THRESHOLD,
            sender=admin,
        )
        self.domain = BridgeDomain(CHAIN_ID, self.bridge.address)

    def certify(self, digest: bytes) -> list[bytes]:
        return certify([n.key for n in self.committee[:THRESHOLD]], digest)

    def sent(self, count: int) -> list[Packet]:
        """``count`` packets sent from here (their commitments pending), as emitted."""
        packets = []
        for _ in range(count):
            receipt = self.bridge.transact(
                "sendNative", REMOTE_CHAIN, b"\x44" * 20, 1, 0, sender=self.sender, value=AMOUNT
            )
            (event,) = receipt.named("SendPacket")
            packets.append(Packet.from_abi(event.args["packet"]))
        return packets

    def timeout_one(self, packet: Packet) -> int:
        certificate = self.certify(compute_not_delivered_digest(self.domain, packet))
        receipt = self.bridge.transact(
            "timeoutPacket", packet.as_abi(), certificate, sender=self.relayer
        )
        assert len(receipt.named("TimeoutPacket")) == 1
        return receipt.gas_used

    def refund_batch(self, packets: list[Packet]) -> tuple[int, int]:
        """``(submitRoot gas, refundBatch gas)`` of one NONDELIVERY batch of ``packets``."""
        batch = make_batch(packets, kind=BatchKind.NONDELIVERY)
        stored = self.bridge.transact(
            "submitRoot",
            batch.statement,
            self.certify(batch.digest(self.domain)),
            sender=self.relayer,
        )
        refunded = self.bridge.transact(
            "refundBatch", batch.statement, *batch.members(), sender=self.relayer
        )
        assert len(refunded.named("TimeoutPacket")) == len(packets)
        return stored.gas_used, refunded.gas_used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="batches of 1 and 16 only")
    sizes = [1, 16] if parser.parse_args().quick else [1, 16, 64, 128]

    with AnvilNode(AnvilConfig(chain_id=CHAIN_ID, accounts=3)) as node:
        chain = Chain(node.url)
        try:
            admin, relayer, sender = (a.address for a in node.accounts[:3])
            bench = Bench(chain, admin, relayer, sender)
            singles = bench.sent(BASELINE_PACKETS)
            baseline = sum(bench.timeout_one(p) for p in singles) / BASELINE_PACKETS
            print(f"timeoutPacket, one 3-of-4 certificate per refund: {baseline:,.0f} gas/packet")
            print()
            header = ("batch", "submitRoot", "refundBatch", "gas/packet", "vs per-packet")
            print(" ".join(f"{h:>{w}}" for h, w in zip(header, (6, 11, 12, 11, 14), strict=True)))
            for size in sizes:
                root_gas, batch_gas = bench.refund_batch(bench.sent(size))
                per_packet = (root_gas + batch_gas) / size
                print(
                    f"{size:>6} {root_gas:>11,} {batch_gas:>12,} {per_packet:>11,.0f} "
                    f"{baseline / per_packet:>13.2f}x"
                )
        finally:
            chain.close()


if __name__ == "__main__":
    main()
