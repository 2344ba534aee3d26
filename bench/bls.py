"""BLS12-381 benchmark: py_ecc against the fast backend, as ``make bench`` runs it.

    .venv/bin/python bench/bls.py            # 4, 32, 128, 512 signers (about 2 minutes)
    .venv/bin/python bench/bls.py --quick    # 4 and 128 signers, fewer repetitions

For each signer count and backend: ``fast_aggregate_verify`` from the raw key bytes
(every key deserialised, subgroup-checked and added on each call), the same check
against a ``ValidatorSetKeys`` whose subset key is already cached, the cost of a new
subset (a cache miss) and of building the set (each key checked once). A single
``verify`` does not depend on the signer count and is measured once. Times are
medians of ``time.perf_counter`` over several runs, fewer where py_ecc takes seconds.
The process is pinned to one CPU unless ``--all-cores`` is given, so the figures are
single-core ones. Keys come from ``keygen`` with deterministic seeds; signatures are
made with the fast backend (signing 512 times with py_ecc would take minutes).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import proofs.bls as bls

MESSAGE = b"\x42" * 32
SIZES = (4, 32, 128, 512)
QUICK_SIZES = (4, 128)


@dataclass(frozen=True)
class Reps:
    """Repetitions per measurement: many for the fast backends, few for py_ecc."""

    verify: int
    fav: int
    cached: int
    miss: int
    build: int


def reps_for(backend: bls.Backend, signers: int, quick: bool) -> Reps:
    if backend.is_fast:
        fav = max(5, min(50, 3000 // signers))
        reps = Reps(verify=100, fav=fav, cached=200, miss=min(20, fav), build=3)
    else:
        reps = Reps(verify=7, fav=5 if signers <= 32 else 3, cached=7, miss=3, build=1)
    if quick:
        reps = Reps(*(max(1, n // 3) if n > 3 else n for n in vars(reps).values()))
    return reps


def _ratio(value: float) -> str:
    return f"{value:,.0f}×" if value >= 10 else f"{value:.2f}×"


def median_ms(fn: Callable[[], object], reps: int) -> float:
    """Median wall time of ``fn`` in milliseconds; every call must return True."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        ok = fn()
        times.append(time.perf_counter() - start)
        if ok is False:
            raise SystemExit(f"benchmark sanity check failed in {fn!r}")
    return statistics.median(times) * 1e3


def backends() -> list[bls.Backend]:
    found: list[bls.Backend] = [bls.get_backend("py_ecc")]
    try:
        from proofs.bls import _milagro
    except ImportError:
        print("milagro-bls-binding is not installed: only py_ecc is measured", file=sys.stderr)
        return found
    found.append(_milagro.MilagroBackend(use_arkworks=False))
    if _milagro.arkworks_available():
        found.append(_milagro.MilagroBackend(use_arkworks=True))
    return found


def measure(
    backend: bls.Backend,
    pubkeys: list[bytes],
    signature: bytes,
    quick: bool,
) -> dict[str, float]:
    n = len(pubkeys)
    reps = reps_for(backend, n, quick)
    everyone = range(n)
    out = {
        "fav": median_ms(
            lambda: bls.fast_aggregate_verify(pubkeys, MESSAGE, signature, backend=backend),
            reps.fav,
        ),
        "build": median_ms(lambda: bls.ValidatorSetKeys(pubkeys, backend=backend), reps.build),
    }
    keys = bls.ValidatorSetKeys(pubkeys, backend=backend, cache_size=4)
    assert keys.verify(everyone, MESSAGE, signature)  # fills the cache
    out["cached"] = median_ms(lambda: keys.verify(everyone, MESSAGE, signature), reps.cached)
    # New subsets (all signers but one, a different one each time) always miss the cache.
    left_out = iter(range(n))

    def new_subset() -> bytes:
        skipped = next(left_out)
        return keys.aggregate_pubkey([i for i in everyone if i != skipped])

    out["miss"] = median_ms(new_subset, min(reps.miss, n))
    return out


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
    for dist in ("py-ecc", "milagro-bls-binding", "py-arkworks-bls12381"):
        try:
            versions.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            versions.append(f"{dist} (not installed)")
    return f"{model}, {os.cpu_count()} cores; Python {platform.python_version()}; " + ", ".join(
        versions
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="4 and 128 signers, fewer runs")
    parser.add_argument("--all-cores", action="store_true", help="do not pin to one CPU")
    args = parser.parse_args(argv)

    pinned = "all cores"
    if not args.all_cores and hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        pinned = f"pinned to CPU {cpu}"
    sizes = QUICK_SIZES if args.quick else SIZES
    started = time.perf_counter()
    print(f"# BLS12-381 benchmark ({'quick' if args.quick else 'full'}, {pinned})")
    print(f"# {machine()}")

    found = backends()
    fast = found[-1]
    names = [b.name for b in found]
    secret_keys = [
        bls.keygen(hashlib.sha256(b"pjgw-bench-%d" % i).digest()) for i in range(max(sizes))
    ]
    all_pubkeys = [bls.sk_to_pk(sk, backend=fast) for sk in secret_keys]
    signatures = [bls.sign(sk, MESSAGE, backend=fast) for sk in secret_keys]

    header = "| signers | operation | " + " | ".join(f"{n} (ms)" for n in names)
    ratios = [f"py_ecc ÷ {n}" for n in names[1:]]
    print()
    print(header + "".join(f" | {r}" for r in ratios) + " |")
    print("|---:|---|" + "---:|" * (len(names) + len(ratios)))

    def row(signers: str, label: str, values: list[float]) -> None:
        cells = [f"{v:,.2f}" for v in values]
        cells += [_ratio(values[0] / v) for v in values[1:]]
        print(f"| {signers} | {label} | " + " | ".join(cells) + " |", flush=True)

    verify_ms = [
        median_ms(
            lambda b=b: bls.verify(all_pubkeys[0], MESSAGE, signatures[0], backend=b),
            reps_for(b, 1, args.quick).verify,
        )
        for b in found
    ]
    row("1", "`verify`", verify_ms)
    labels = {
        "fav": "`fast_aggregate_verify`, no cache",
        "cached": "`ValidatorSetKeys.verify`, cached set key",
        "miss": "new subset aggregate (cache miss)",
        "build": "`ValidatorSetKeys(...)` (check every key once)",
    }
    for n in sizes:
        signature = bls.aggregate(signatures[:n], backend=fast)
        results = [measure(b, all_pubkeys[:n], signature, args.quick) for b in found]
        for key, label in labels.items():
            row(str(n), label, [r[key] for r in results])
    print(f"\n# total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
