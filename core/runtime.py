"""Process-wide settings every entry point applies once its imports are done.

``bound_recursion``: py_ecc (imported by eth-account and by the BLS facade)
raises the interpreter's recursion limit to 100,000 when it is imported. C code
that recurses per level of its input (``json.loads``, ``repr``, pickle) is
guarded only by that limit, so 100,000 lets a deeply nested request body
overflow the C stack and kill the process with SIGSEGV instead of raising
``RecursionError``. The project uses py_ecc's optimized curves only, which
run within CPython's default, so every process goes back to it.
"""

from __future__ import annotations

import importlib
import sys

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


__all__ = ["RECURSION_LIMIT", "bound_recursion"]
