"""Gas per packet on ``Bridge.sol``: one certificate per packet vs one per batch (#15).

    .venv/bin/python bench/batch_gas.py            # a real anvil, about half a minute
    .venv/bin/python bench/batch_gas.py --quick    # batches of 1 and 16 only

Measured on a real anvil (gas is deterministic; no wall time is reported):

* the baseline, in the same run: ``receivePacket`` of 16 asset packets, each with
  its own 3-of-4 certificate (the per-packet mode), gas per packet;
* batches of 1, 16, 64 and 256 packets: ``submitRoot`` (one 3-of-4 certificate)
  plus ``receiveBatch`` of all members in one transaction, gas per packet, and
  the ratio to the baseline;
* how many members one ``receiveBatch`` fits under a 30M block gas limit (and half
  of it), from the line through the measured batches: the basis of
  ``adapters.evm.bridge.BATCH_CAPACITY``.

Every packet mints an existing voucher to a fresh receiver (the voucher is
created before measuring), so each costs one zero-to-nonzero balance write in
both modes, as real transfers to new holders do.
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
    compute_packet_digest,
)
from adapters.evm.node import AnvilConfig, AnvilNode  # noqa: E402
from tests.evm.batches import make_batch  # noqa: E402
from tests.evm.chain import Chain  # noqa: E402
from tests.fixtures.anvil import CHAIN_ID, LOCAL_CHAIN, REMOTE_CHAIN, make_committee  # noqa: E402

BLOCK_GAS_LIMIT = 30_000_000
THRESHOLD = 3
BASELINE_PACKETS = 16


class Bench:
    def __init__(self, chain: Chain, admin: str, relayer: str) -> None:
        self.chain = chain
        self.relayer = relayer
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
        self.sequence = 0
        self.deadline = chain.timestamp() + 10 * 86_400

    def certify(self, digest: bytes) -> list[bytes]:
        return certify([n.key for n in self.committee[:THRESHOLD]], digest)

    def packet(self) -> Packet:
        self.sequence += 1
        return Packet(
            sequence=self.sequence,
            source_chain=REMOTE_CHAIN,
            dest_chain=LOCAL_CHAIN,
            sender=b"\x11" * 20,
            receiver=(0x100000 + self.sequence).to_bytes(20, "big"),
            denom="uusd",
            amount=1_000,
            payload=b"",
            timeout_height=0,
            timeout_timestamp=self.deadline,
        )

    def receive_one(self) -> int:
        packet = self.packet()
        certificate = self.certify(compute_packet_digest(self.domain, packet))
        receipt = self.bridge.transact(
            "receivePacket", packet.as_abi(), certificate, sender=self.relayer
        )
        return receipt.gas_used

    def receive_batch(self, size: int) -> tuple[int, int]:
        """``(submitRoot gas, receiveBatch gas)`` of a batch of ``size``."""
        batch = make_batch([self.packet() for _ in range(size)])
        stored = self.bridge.transact(
            "submitRoot",
            batch.statement,
            self.certify(batch.digest(self.domain)),
            sender=self.relayer,
        )
        received = self.bridge.transact(
            "receiveBatch", batch.statement, *batch.members(), sender=self.relayer
        )
        assert len(received.named("RecvPacket")) == size
        return stored.gas_used, received.gas_used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="batches of 1 and 16 only")
    sizes = [1, 16] if parser.parse_args().quick else [1, 16, 64, 256]

    with AnvilNode(AnvilConfig(chain_id=CHAIN_ID, accounts=3)) as node:
        chain = Chain(node.url)
        try:
            admin, relayer = node.accounts[0].address, node.accounts[1].address
            bench = Bench(chain, admin, relayer)
            bench.receive_one()  # deploys the voucher: not a per-packet cost
            baseline = sum(bench.receive_one() for _ in range(BASELINE_PACKETS)) / BASELINE_PACKETS
            print(f"receivePacket, one 3-of-4 certificate per packet: {baseline:,.0f} gas/packet")
            print()
            header = ("batch", "submitRoot", "receiveBatch", "gas/packet", "vs per-packet")
            print(" ".join(f"{h:>{w}}" for h, w in zip(header, (6, 11, 13, 11, 14), strict=True)))
            points = []
            for size in sizes:
                root_gas, batch_gas = bench.receive_batch(size)
                per_packet = (root_gas + batch_gas) / size
                points.append((size, batch_gas))
                print(
                    f"{size:>6} {root_gas:>11,} {batch_gas:>13,} {per_packet:>11,.0f} "
                    f"{baseline / per_packet:>13.2f}x"
                )
            (n0, g0), (n1, g1) = points[0], points[-1]
            marginal = (g1 - g0) / (n1 - n0)
            fixed = g0 - marginal * n0
            print()
            print(f"receiveBatch = {fixed:,.0f} + {marginal:,.0f} x members (gas)")
            for limit in (BLOCK_GAS_LIMIT, BLOCK_GAS_LIMIT // 2):
                fits = int((limit - fixed) // marginal)
                print(f"members under {limit:,} gas: {fits}")
        finally:
            chain.close()


if __name__ == "__main__":
    main()
