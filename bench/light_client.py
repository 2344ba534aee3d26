"""Pujiang light-client benchmark: header verification rate, and catching up a chain.

    .venv/bin/python bench/light_client.py            # full run (about 2 minutes)
    .venv/bin/python bench/light_client.py --quick    # fewer runs, 1,000-block sync

1. **Header verification rate** for 4, 32 and 128 validators on py_ecc and the
   fast backend, in one run: ``verify_header`` of adjacent headers of a stable
   set (all validators sign), the steady state of a relayer following a chain.
   The set's keys and PoPs were checked once, at the checkpoint; that one-time
   cost is its own column (fast backend; py_ecc would take ~0.8 s a key). For
   py_ecc the checkpoint's set is re-keyed with py_ecc (keys validated, PoPs
   already checked). Medians of ``time.perf_counter`` over distinct headers.
2. **Catching up 10,000 blocks** with a stable set: sequential verification
   (every header) against skipping (``verify_bisection`` to the tip), with the
   headers fetched and verified and the time; then the same length with the
   whole set replaced every 1,000 blocks, where skipping has to bisect.

Chains are built in memory with the codec and BLS (``tests/proofs/pujiang/builder.py``;
one signature per commit, the bytes of the honest aggregate). The process is
pinned to one CPU unless ``--all-cores`` is given. Figures are printed, never
asserted; ``docs/benchmarks.md`` records a run.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for tests.proofs.pujiang

import proofs.bls as bls
from proofs.pujiang.commit import accept_validator_set, decode_validator_set
from proofs.pujiang.light_client import (
    ClientState,
    ConsensusState,
    verify_bisection,
    verify_header,
)
from tests.proofs.pujiang.builder import ChainBuilder, Members, checkpoint, client_for

SIZES = (4, 32, 128)


def rekey(state: ConsensusState, backend: str) -> ConsensusState:
    """The same trusted state with its (already PoP-checked) set keyed on ``backend``."""
    valset = state.validators
    pubkeys = [v.bls_pubkey for v in valset.validators]
    keyed = replace(valset, keys=bls.ValidatorSetKeys(pubkeys, backend=backend))
    return replace(state, validators=keyed, next_validators=keyed)


def verify_rate(
    chain: ChainBuilder, client: ClientState, trusted: ConsensusState, count: int, backend: str
) -> float:
    """Median milliseconds of ``verify_header`` over ``count`` adjacent headers."""
    now = chain.time_ms + 1_000
    times = []
    state = trusted
    for height in range(trusted.height + 1, trusted.height + 1 + count):
        signed = chain.blocks[height].signed
        start = time.perf_counter()
        state = verify_header(client, state, *signed, now, backend=backend)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def new_set_ms(members: Members, backend: str, reps: int) -> float:
    """Decode, hash, key-check and PoP-check a set seen for the first time."""
    encoded = members.encode()
    client_hash = client_for(ChainBuilder(members)).hash_fn
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        accept_validator_set(decode_validator_set(encoded, client_hash), backend=backend)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def header_rates(quick: bool) -> None:
    fast_reps, slow_reps = (30, 2) if quick else (200, 3)
    print("\n## Header verification (adjacent, stable set, all validators sign)\n")
    print(
        "| validators | py_ecc (ms/header) | py_ecc (headers/s) | fast (ms/header) "
        "| fast (headers/s) | fast ÷ py_ecc | new set, fast (ms, once per set) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n in SIZES:
        members = Members.of(list(range(n)))
        chain = ChainBuilder(members)
        chain.extend(fast_reps + slow_reps + 2)
        client = client_for(chain)
        trusted = checkpoint(chain, client, backend="fast")
        warm = verify_header(
            client, trusted, *chain.blocks[2].signed, chain.time_ms, backend="fast"
        )
        fast_ms = verify_rate(chain, client, warm, fast_reps, "fast")
        slow_ms = verify_rate(chain, client, rekey(warm, "py_ecc"), slow_reps, "py_ecc")
        once_ms = new_set_ms(members, "fast", 1 if n > 32 else 3)
        print(
            f"| {n} | {slow_ms:,.1f} | {1e3 / slow_ms:,.2f} | {fast_ms:,.2f} | "
            f"{1e3 / fast_ms:,.0f} | {slow_ms / fast_ms:,.0f}× | {once_ms:,.0f} |",
            flush=True,
        )


def sync(label: str, chain: ChainBuilder, tip: int) -> None:
    """Sequential and skipping verification of heights 2..tip from a checkpoint at 1."""
    client = client_for(chain)
    trusted = checkpoint(chain, client, backend="fast")
    now = chain.time_ms + 1_000
    fetched = []

    def fetch(height: int) -> tuple[bytes, bytes, bytes]:
        fetched.append(height)
        return chain.blocks[height].signed

    start = time.perf_counter()
    state = trusted
    for height in range(2, tip + 1):
        state = verify_header(client, state, *fetch(height), now, backend="fast")
    sequential_s = time.perf_counter() - start
    sequential_fetched = len(fetched)
    fetched.clear()
    start = time.perf_counter()
    states = verify_bisection(client, trusted, tip, fetch, now, backend="fast")
    skipping_s = time.perf_counter() - start
    assert states[-1].header_hash == state.header_hash
    print(f"| {label} | sequential | {sequential_fetched:,} | {tip - 1:,} | {sequential_s:,.2f} |")
    print(f"| {label} | skipping | {len(fetched):,} | {len(states):,} | {skipping_s:,.3f} |")


def catch_up(quick: bool) -> None:
    blocks = 1_000 if quick else 10_000
    every = blocks // 10
    size = 32
    print(f"\n## Catching up {blocks:,} blocks from a checkpoint ({size} validators)\n")
    print("| chain | verification | headers fetched | headers verified | time (s) |")
    print("|---|---|---:|---:|---:|")
    stable = ChainBuilder(Members.of(list(range(size))))
    stable.extend(blocks + 1)
    sync("stable set", stable, blocks + 1)
    rotating = ChainBuilder(Members.of(list(range(size))))
    for height in range(1, blocks + 2):
        if height % every == 0:  # block `height` names a fresh set for height + 1
            first = 1_000 + height
            rotating.rotate_to(Members.of(list(range(first, first + size))))
        rotating.append()
    sync(f"whole set replaced every {every:,} blocks", rotating, blocks + 1)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = []
    for dist in ("py-ecc", "milagro-bls-binding", "py-arkworks-bls12381", "rlp"):
        try:
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist} (not installed)")
    return f"{model}, {os.cpu_count()} cores; Python {platform.python_version()}; " + ", ".join(
        versions
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, 1,000-block sync")
    parser.add_argument("--all-cores", action="store_true", help="do not pin to one CPU")
    args = parser.parse_args(argv)
    pinned = "all cores"
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        pinned = f"pinned to CPU {cpu}"
    started = time.perf_counter()
    print(f"# Pujiang light-client benchmark ({'quick' if args.quick else 'full'}, {pinned})")
    print(f"# {machine()}; fast backend: {bls.get_backend('fast').name}")
    header_rates(args.quick)
    catch_up(args.quick)
    print(f"\n# total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
