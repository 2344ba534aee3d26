"""``core.runtime.bound_recursion``: the recursion limit stays bounded whatever is imported after.

Run in a fresh interpreter each: the test process itself has imported py_ecc
(limit 100,000) long before, which is exactly the state the servers were in.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip()


def test_eth_account_raises_the_limit_unless_bounded_first() -> None:
    raised = _run("import sys, eth_account; print(sys.getrecursionlimit())")
    assert int(raised) >= 100_000  # the lead of issue 14: still true of the library
    bounded = _run(
        """
        import sys
        from core.runtime import RECURSION_LIMIT, bound_recursion
        bound_recursion()
        import eth_account, py_ecc.bls, proofs.bls  # the raisers, after the bound
        print(sys.getrecursionlimit() == RECURSION_LIMIT)
        """
    )
    assert bounded == "True"


def test_bounded_after_importing_every_module_of_the_servers() -> None:
    out = _run(
        """
        import importlib, pkgutil, sys
        from core.runtime import RECURSION_LIMIT, bound_recursion
        bound_recursion()
        import tomllib
        roots = tomllib.load(open("pyproject.toml", "rb"))["tool"]["importlinter"]["root_packages"]
        for root in roots:
            package = importlib.import_module(root)
            for info in pkgutil.walk_packages(package.__path__, root + "."):
                if ".migrations" in info.name or info.name.endswith("__main__"):
                    continue
                importlib.import_module(info.name)
        print(sys.getrecursionlimit() == RECURSION_LIMIT)
        """
    )
    assert out == "True"


def test_deep_json_is_a_recursion_error_once_bounded_not_a_crash() -> None:
    out = _run(
        """
        import json
        from core.runtime import bound_recursion
        bound_recursion()
        try:
            json.loads("[" * 200_000 + "]" * 200_000)
        except RecursionError:
            print("RecursionError")
        """
    )
    assert out == "RecursionError"
