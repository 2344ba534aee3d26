"""Gas of the on-chain Pujiang light client (``contracts/PujiangLightClient.sol``) on anvil.

    .venv/bin/python bench/lc_gas.py

For sets of 4, 32 and 128 validators (equal power, every validator signing):

* **update, new set**: ``updateClient`` with an adjacent header whose set the
  client has not seen (its keys are checked once: one G1MSM over the set);
* **update, known set**: the next adjacent header (keys cached by set hash);
* **update, skip**: a header 10 heights ahead signed by the same set;
* **calldata bytes** of one update;
* **per packet**: ``Bridge.receivePacketWithProof`` of one asset packet (a new
  voucher) in a block of 8 events, against the baseline measured in the same
  run: ``Bridge.receivePacket`` of the same kind of packet with a 3-of-4 notary
  certificate.

Gas is the receipt's ``gasUsed`` (deterministic; no timing). The Pujiang
chain is synthetic (``tests/lightclient/builder.py``), signed with the
project's BLS facade.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from eth_abi import encode as abi_encode
from eth_account import Account
from eth_hash.auto import keccak

from adapters.evm.certificate import BridgeDomain, certify, compute_packet_digest
from adapters.evm.certificate import Packet as EvmPacket
from adapters.evm.node import AnvilConfig, AnvilNode
from adapters.pujiang.evm_client_update import (
    UPDATE_ABI,
    encode_packet_proof,
    update_tuple,
)
from proofs.pujiang import codec
from tests.evm.chain import Chain
from tests.lightclient.builder import Block, PujiangChain, ValSet, send_packet_event
from tests.lightclient.test_onchain_client import evm_packet

SOURCE = "pj-src"
LOCAL = "anvil-31337"
SIZES = (4, 32, 128)


def packet(sequence: int, alice: str, now_s: int) -> codec.Packet:
    return codec.Packet(
        source_chain=SOURCE.encode(),
        dest_chain=LOCAL.encode(),
        sequence=sequence,
        sender=b"pj-sender-address-20",
        receiver=bytes.fromhex(alice[2:]),
        denom=b"upj",
        amount=1000,
        payload=b"",
        timeout_height=0,
        timeout_time_ms=(now_s + 3600) * 1000,
    )


def main() -> None:
    with AnvilNode(AnvilConfig(accounts=3)) as node:
        chain = Chain(node.url)
        admin, alice = chain.call("eth_accounts")[:2]
        notaries = sorted(
            (Account.from_key(keccak(f"bench-{i}".encode())) for i in range(4)),
            key=lambda a: int(a.address, 16),
        )
        bridge = chain.deploy(
            "Bridge", LOCAL, admin, [a.address for a in notaries], 3, sender=admin
        )
        domain = BridgeDomain(chain.chain_id(), bridge.address)
        now = chain.timestamp()
        # baseline: a notary-certified packet
        for sequence in (1, 2):  # the second: the voucher exists, as for the measured packets
            base_packet = evm_packet(packet(sequence, alice, now))
            digest = compute_packet_digest(domain, EvmPacket(*base_packet))
            sigs = certify([a.key for a in notaries[:3]], digest)
            receipt = bridge.transact("receivePacket", base_packet, sigs, sender=admin)
        notary_gas = receipt.gas_used
        print(f"baseline: receivePacket with a 3-of-4 notary certificate: {notary_gas:,} gas")
        print()
        print(
            "| validators | update, new set | update, known set | skip 10 heights "
            "| calldata bytes | per packet | packet vs notary |"
        )
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for size in SIZES:
            source = f"{SOURCE}"
            lc = chain.deploy("PujiangLightClient", source, 24 * 3600 * 1000, 10_000, sender=admin)
            bridge.transact("setLightClient", source, lc.address, sender=admin)
            pj = PujiangChain(source, ValSet.make(f"bench{size}", size))
            t0 = (chain.timestamp() - 200) * 1000
            pj.block(1, t0)
            lc.transact("initialize", 1, pj.blocks[1].hash, pj.blocks[1].header, sender=admin)
            seq0 = 100 * size
            packets = [packet(seq0 + i, alice, chain.timestamp()) for i in range(8)]
            b2 = pj.block(
                2, t0 + 1000, events=[send_packet_event(p, 0, i) for i, p in enumerate(packets)]
            )
            b3 = pj.block(3, t0 + 2000)
            b13 = pj.block(13, t0 + 12000)

            def upd(block: Block, trusted: int, pj: PujiangChain = pj) -> tuple[Any, ...]:
                trusted_set = pj.blocks[trusted].valset.encode()
                return update_tuple(
                    trusted, block.header, block.commit, block.valset.encode(), trusted_set
                )

            u2 = upd(b2, 1)
            g_new = lc.transact("updateClient", u2, sender=admin).gas_used
            g_known = lc.transact("updateClient", upd(b3, 2), sender=admin).gas_used
            g_skip = lc.transact("updateClient", upd(b13, 3), sender=admin).gas_used
            size_bytes = len(abi_encode([UPDATE_ABI], [u2])) + 4
            proof = encode_packet_proof(2, 0, 0, 0, b2.event_proof(0))
            g_packet = bridge.transact(
                "receivePacketWithProof", evm_packet(packets[0]), proof, sender=admin
            ).gas_used
            print(
                f"| {size} | {g_new:,} | {g_known:,} | {g_skip:,} | {size_bytes:,} "
                f"| {g_packet:,} | {g_packet / notary_gas:.2f}× |"
            )
        chain.close()


if __name__ == "__main__":
    main()
