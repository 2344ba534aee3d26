"""Signer seam benchmark: what a signature costs per back-end, and a signer pool's throughput.

    .venv/bin/python bench/signers.py            # about half a minute
    .venv/bin/python bench/signers.py --quick    # a few seconds

What is measured (``time.perf_counter``; anvil and SoftHSM2 run on this machine):

* **one signature** over a 32-byte digest, r ‖ s ‖ v with low s, per back-end:
  a secp256k1 key in memory (``LocalSigner``, libsecp256k1: the baseline), the same
  curve in a PKCS#11 token (SoftHSM2: ``CKM_ECDSA``, then low-s and the recovery id
  found by trial recovery), P-256 in memory and in the token; medians, ratios to the
  baseline measured in the same run;
* **confirmed transactions per second** of ``EvmAdapter.submit_many`` (value
  transfers, batches of 100, every receipt waited for) from one account (the
  baseline) and from a pool of four, on one anvil.

SoftHSM2 must be installed (``apt-get install softhsm2``); a token is created in a
temporary directory (``SOFTHSM2_CONF``) and deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from eth_account import Account
from eth_hash.auto import keccak

from adapters.evm.adapter import EvmAdapter
from adapters.evm.node import AnvilConfig, AnvilNode
from adapters.evm.settings import EvmChainSettings
from adapters.signers import LocalSigner
from adapters.signers.keystore_files import write_v3
from adapters.signers.pkcs11 import Pkcs11Signer, TokenKey, generate_key
from core.seams import P256, SECP256K1, Signer
from core.types import ChainAction

SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "bench-pin"
CHAIN_ID = 31337


def _median_ms(signer: Signer, runs: int) -> float:
    digests = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(runs)]
    times = []
    for digest in digests:
        start = time.perf_counter()
        signer.sign_digest(digest)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def signatures(runs: int) -> list[tuple[str, float]]:
    util = shutil.which("softhsm2-util")
    if util is None or not Path(SOFTHSM).exists():
        sys.exit("SoftHSM2 is not installed: apt-get install softhsm2")
    with tempfile.TemporaryDirectory() as tmp:
        tokens = Path(tmp) / "tokens"
        tokens.mkdir()
        conf = Path(tmp) / "softhsm2.conf"
        conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\n")
        os.environ["SOFTHSM2_CONF"] = str(conf)
        subprocess.run(
            [util, "--init-token", "--free", "--label", "bench", "--pin", PIN, "--so-pin", PIN],
            check=True,
            capture_output=True,
        )
        secret = hashlib.sha256(b"bench").digest()
        rows = []
        for scheme in (SECP256K1, P256):
            where = TokenKey(SOFTHSM, "bench", f"key-{scheme}", PIN)
            generate_key(where, scheme)
            token = Pkcs11Signer(where, scheme)
            rows.append((f"{scheme} in memory", _median_ms(LocalSigner(secret, scheme), runs)))
            rows.append((f"{scheme} in SoftHSM2", _median_ms(token, runs)))
            token.close()
        return rows


async def pool_throughput(node: AnvilNode, accounts: int, count: int, tmp: Path) -> float:
    keys = [keccak(f"bench-pool-{accounts}-{i}".encode()) for i in range(accounts)]
    refs = []
    for i, key in enumerate(keys):
        node_address = Account.from_key(key).address
        async with EvmAdapter(_settings(node, ())) as funding:
            await funding.reader.call("anvil_setBalance", node_address, hex(10**21))
        path = tmp / f"pool-{accounts}-{i}.json"
        write_v3(path, key, "bench", f"pool-{i}", scrypt_n=2**4)
        refs.append(f"keystore:{path}")
    os.environ["PJGW_KEYSTORE_PASSWORD"] = "bench"
    sink = "0x000000000000000000000000000000000000dEaD"
    actions = [
        ChainAction("raw", {"to": sink, "value": 1, "gas": 21_000}, f"b{accounts}-{i}")
        for i in range(count)
    ]
    async with EvmAdapter(_settings(node, tuple(refs))) as adapter:
        start = time.perf_counter()
        hashes: list[bytes] = []
        for first in range(0, count, 100):
            sent = await adapter.submit_many(actions[first : first + 100])
            hashes += [h for h in sent if isinstance(h, bytes)]
        receipts = await adapter.wait_receipts(hashes, timeout=600)
        elapsed = time.perf_counter() - start
    assert len(hashes) == count
    assert all(r.success for r in receipts)
    return count / elapsed


def _settings(node: AnvilNode, signers: tuple[str, ...]) -> EvmChainSettings:
    return EvmChainSettings(
        chain="anvil-31337",
        rpc_url=node.url,
        evm_chain_id=CHAIN_ID,
        confirmations=0,
        signers=signers,
        balance_check_interval=3600,
        receipt_poll_interval=0.01,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    quick = parser.parse_args().quick
    runs, count = (50, 200) if quick else (500, 1_000)
    rows = signatures(runs)
    baseline = {scheme: ms for name, ms in rows if name.endswith("in memory") for scheme in [name]}
    print(f"one signature (median of {runs}), ratio to the in-memory key of the same curve")
    for name, ms in rows:
        base = baseline[name.replace("in SoftHSM2", "in memory")]
        print(f"  {name:24s} {ms:8.3f} ms   {ms / base:6.1f}×")
    with (
        AnvilNode(AnvilConfig(chain_id=CHAIN_ID, accounts=1)) as node,
        tempfile.TemporaryDirectory() as tmp,
    ):
        one = asyncio.run(pool_throughput(node, 1, count, Path(tmp)))
        four = asyncio.run(pool_throughput(node, 4, count, Path(tmp)))
    print(f"confirmed transactions per second, {count} value transfers, batches of 100")
    print(f"  one account           {one:8.1f} tx/s   1.00×")
    print(f"  pool of four accounts {four:8.1f} tx/s   {four / one:.2f}×")


if __name__ == "__main__":
    main()
