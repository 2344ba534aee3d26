"""ChainMaker and FISCO BCOS verification: blocks verified per second, per family.

    .venv/bin/python bench/chainmaker_fisco.py            # about 20 s
    .venv/bin/python bench/chainmaker_fisco.py --quick    # fewer repetitions

Measures, on the real blocks of ``../shared/vectors`` (``PJGW_VECTORS_DIR``):

* ChainMaker v2.3.2 (4 validators, 3 votes, ECDSA P-256 / SHA-256, cert mode):
  header + proposer + TBFT certificate (``verify_block``) with the certificate
  caches warm (steady state of a light client) and cold (every CA check redone),
  and the body roots (``verify_block_body``) of the full blocks;
* ChainMaker with SM2 over SM3 (public-key mode, a built 4-validator block,
  all 4 voting): the cost of the pure-Python SM2 backend;
* FISCO BCOS 2.x: the 4-sealer header (hash + 3 secp256k1 recoveries) and the
  WeCross transaction proof.

Times are medians of ``time.perf_counter`` over batches; the process is pinned
to one CPU so the figures are single-core ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from proofs.chainmaker import compute_chain_trust, decode_block_info  # noqa: E402
from proofs.chainmaker import identity as cm_identity  # noqa: E402
from proofs.chainmaker.verifier import verify_block, verify_block_body  # noqa: E402
from proofs.fisco import decode_header, decode_proof, verify_header, verify_merkle_proof  # noqa: E402
from proofs.hashing import SM3  # noqa: E402
from tests.proofs.chainmaker import builder  # noqa: E402
from tests.proofs.chainmaker.conftest import BLOCK_FILES, trust_doc  # noqa: E402


def vectors() -> Path:
    path = Path(os.environ.get("PJGW_VECTORS_DIR", REPO.parent / "shared" / "vectors"))
    if not path.is_dir():
        sys.exit(f"vectors not found at {path}")
    return path


def per_second(fn: Callable[[], object], batch: int, rounds: int) -> tuple[float, float]:
    """(median ms per call, calls per second)."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        times.append((time.perf_counter() - start) / batch)
    median = statistics.median(times)
    return median * 1000, 1 / median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rounds, batch = (3, 20) if args.quick else (7, 50)
    root = vectors()
    cm = root / "chainmaker"
    docs = {h: json.loads((cm / name).read_text()) for h, name in BLOCK_FILES.items()}
    trusts = {h: compute_chain_trust(trust_doc(cm, docs, h)) for h in (0, 22)}
    infos = [decode_block_info(docs[h]) for h in sorted(docs)]

    def cm_warm() -> None:
        for info in infos:
            verify_block(info, trusts[info.block.header.pre_conf_height])

    def cm_cold() -> None:
        cm_identity.load_certificate.cache_clear()
        cm_identity.load_public_key.cache_clear()
        cm_identity._issued_by.cache_clear()
        cm_warm()

    full = [i for i in infos if i.rwset_list]

    def cm_body() -> None:
        for info in full:
            verify_block_body(info, trusts[info.block.header.pre_conf_height])

    def cm_decode() -> None:
        for h in sorted(docs):
            decode_block_info(docs[h])

    nodes = [builder.make_pk_node(f"org{i}", f"QmPk{i}", "sm2") for i in range(4)]
    sm2_trust = compute_chain_trust(
        builder.trust_doc("bench", 0, nodes, hash_type="SM3", auth_type="public")
    )
    sm2_block = builder.make_block(
        chain_id="bench", height=1, parent=bytes(32), pre_conf_height=0,
        proposer=nodes[0], voters=nodes, hash_fn=SM3,
    )  # fmt: skip

    def cm_sm2() -> None:
        verify_block(sm2_block, sm2_trust)

    fisco = root / "fisco-bcos"
    fheader_doc = json.loads((fisco / "header_4sealers.json").read_text())
    proof_doc = json.loads((fisco / "txproof.json").read_text())
    proof = decode_proof(proof_doc["txProof"])
    tx_hash = bytes.fromhex(proof_doc["txHash"][2:])
    tx_root = bytes.fromhex(proof_doc["transactionsRoot"][2:])

    def fisco_header() -> None:
        verify_header(decode_header(fheader_doc))

    def fisco_proof() -> None:
        verify_merkle_proof(2, tx_hash, proof, tx_root)

    rows = [
        ("chainmaker", "decode BlockInfo JSON (per block)", cm_decode, len(infos)),
        ("chainmaker", "verify_block, certificate caches warm", cm_warm, len(infos)),
        ("chainmaker", "verify_block, caches cold (CA checks redone)", cm_cold, len(infos)),
        ("chainmaker", "verify_block_body (full blocks, 1 tx)", cm_body, len(full)),
        ("chainmaker", "verify_block, SM2/SM3 built block, 4 votes", cm_sm2, 1),
        ("fisco", "decode + verify_header, 4 sealers / 3 signatures", fisco_header, 1),
        ("fisco", "verify_merkle_proof (real tx proof)", fisco_proof, 1),
    ]  # fmt: skip
    print(f"# {platform.python_version()} on {platform.machine()}, one CPU, {time.strftime('%F')}")
    print("| family | measurement | ms per block (or proof) | per second |")
    print("|---|---|---:|---:|")
    for family, name, fn, per_call in rows:
        small = max(1, batch // (10 if "SM2" in name else 1))
        ms, _ = per_second(fn, small, rounds)
        ms /= per_call
        print(f"| {family} | {name} | {ms:.3f} | {1000 / ms:,.0f} |")


if __name__ == "__main__":
    main()
