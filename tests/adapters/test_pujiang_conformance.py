"""The adapter conformance kit against real devnet nodes.

* over a socket: a devnet started as a subprocess on a free loopback port
  (blocks on its 200 ms timer), stopped by its pid — the way the hub meets a node;
* in-process: the same node behind ``httpx.ASGITransport`` (blocks on demand);
* the ``--pjgw-chain`` route: a separate ``pytest`` run of
  ``adapters.testing.configured`` against the subprocess node, as a chain team
  would run the kit against its own chain.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from adapters.pujiang.conformance import PujiangTarget, target_from_config
from adapters.testing import ChainAdapterConformance
from tests.fixtures.devnet import (
    CHAIN_ID,
    REPO_ROOT,
    DevnetProcess,
    InProcessDevnet,
    account_seed,
)


def options(url: str) -> dict[str, object]:
    return {
        "url": url,
        "chain_id": CHAIN_ID,
        "insecure_plaintext_key": True,
        "relayer_key": account_seed(1).hex(),
    }


class TestPujiangConformanceOverSocket(ChainAdapterConformance):
    """The kit against a devnet node process, over real TCP."""

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_target(cls, devnet_process: DevnetProcess) -> PujiangTarget:
        return target_from_config(
            options(devnet_process.url), {"sender_key": account_seed(0).hex()}
        )


class TestPujiangConformanceInProcess(ChainAdapterConformance):
    """The kit against an in-process devnet through its ASGI app (blocks on demand)."""

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_target(cls, devnet_node: InProcessDevnet) -> PujiangTarget:
        return target_from_config(
            options(devnet_node.url),
            {"sender_key": account_seed(2).hex(), "produce_blocks": True},
            transport=devnet_node.transport,
        )


def test_the_kit_runs_against_a_chain_named_by_pjgw_chain(
    devnet_process: DevnetProcess, tmp_path: Path
) -> None:
    """``--pjgw-chain CONFIG`` + ``adapters.testing.configured`` run the kit and summarise it."""
    config = tmp_path / "chain.toml"
    config.write_text(
        f'family = "pujiang"\n[options]\nurl = "{devnet_process.url}"\n'
        f'chain_id = "{CHAIN_ID}"\n[target_options]\nsender_key = "{account_seed(3).hex()}"\n'
    )
    # No ``-p``: the kit's plugin must load through the ``pytest11`` entry point of the
    # installed distribution, as it does for any adapter package's own test run.
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]
    command += ["--pjgw-chain", str(config), "--pyargs", "adapters.testing.configured", "-q"]
    command += ["-k", "identity or triggered or proven or tampered_headers or receipt"]
    result = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "pjgw adapter conformance" in out
    assert "TestConfiguredChain: 6/6 checks passed" in out, out[-4000:]
