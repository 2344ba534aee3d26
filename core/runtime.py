"""Process-wide settings every entry point applies once its imports are done.

``bound_recursion``: py_ecc (imported by eth-account and by the BLS facade)
raises the interpreter's recursion limit to 100,000 when it is imported. C code
that recurses per level of its input (``json.loads``, ``repr``, pickle) is
guarded only by that limit, so 100,000 lets a deeply nested request body
overflow the C stack and kill the process with SIGSEGV instead of raising
``RecursionError``. The project uses py_ecc's optimized curves only, which
run within CPython's default, so every process goes back to it.

``tune_gc``: CPython's cyclic collector runs a young-generation pass every 700 net
allocations. A relayer pass, a notary's batch check or an API request allocates hundreds
of thousands of short-lived objects (rows, records, decoded events), so many survive a
pass or two only because it came too early, are promoted, and make the full collections
(which walk every tracked object of a heap of ~1 M) frequent: 15–18 % of the relayer's CPU
and ~20 % of each notary's at 300 transfers/s (measured with ``gc.callbacks``, issue #15).
The long-running processes collect the young generation every 50,000 allocations, the
middle one every 20 of those and the old one at most every 100 of those (CPython's
25 %-growth rule still applies on top): the relayer's collections fell to 0.35 s
per 9,000 transfers (wall-clock time inside the collector, 3.6–4.8 s before;
``docs/benchmarks.md``). Garbage cycles live a little longer: the relayer's resident
memory grew ~4 % in the same run. ``PJGW_GC_THRESHOLDS`` overrides
(three integers, e.g. ``700,10,10`` for CPython's own).
"""

from __future__ import annotations

import gc
import importlib
import os
import sys

from core.errors import ConfigError

RECURSION_LIMIT = 1000
"""CPython's own default: the bound its C-level recursion guards are sized for."""

RAISE_AT_IMPORT = ("py_ecc",)
"""Libraries known to raise the limit when first imported: imported here first, so a later
import of them is a no-op and cannot undo the bound."""


def bound_recursion(limit: int = RECURSION_LIMIT) -> int:
    """Import the known raisers, then set the recursion limit to ``limit``; returns it."""
    for name in RAISE_AT_IMPORT:
        try:
            importlib.import_module(name)
        except ImportError:  # not installed: it cannot raise the limit either
            continue
    sys.setrecursionlimit(limit)
    return limit


GC_THRESHOLDS = (50_000, 20, 100)
"""The long-running processes' collector thresholds (see the module)."""
GC_THRESHOLDS_ENV = "PJGW_GC_THRESHOLDS"


def tune_gc(environ: dict[str, str] | None = None) -> tuple[int, int, int]:
    """Set the collector's thresholds to :data:`GC_THRESHOLDS`, or to the three integers of
    ``PJGW_GC_THRESHOLDS`` (``ConfigError`` naming it when they are not); returns them."""
    text = (os.environ if environ is None else environ).get(GC_THRESHOLDS_ENV, "").strip()
    thresholds = GC_THRESHOLDS
    if text:
        parts = [p.strip() for p in text.split(",")]
        if len(parts) != 3 or not all(p.isdigit() for p in parts) or int(parts[0]) < 1:
            raise ConfigError(
                f"{GC_THRESHOLDS_ENV} is three non-negative integers, the first at least 1 "
                f"(e.g. 700,10,10), not {text!r}"
            )
        thresholds = (int(parts[0]), int(parts[1]), int(parts[2]))
    gc.set_threshold(*thresholds)
    return thresholds


__all__ = [
    "GC_THRESHOLDS",
    "GC_THRESHOLDS_ENV",
    "RECURSION_LIMIT",
    "bound_recursion",
    "tune_gc",
]
