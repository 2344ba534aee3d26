"""The adapter conformance kit against the CometBFT adapter, on recorded real light blocks.

No CometBFT node can run here (no binary, no internet): the adapter talks to
``CometBftRecording`` (``tests/adapters/cometbft_recording.py``), RPC answers
assembled from the tendermint-rs vectors' really signed blocks. The target is
``offline``: the kit skips the checks that need the chain to act (trigger a
packet, commit a submission) and runs every other one on the recorded data.

Two recordings, each with validator-set changes inside its window:

* ``TestValsetHalves``: heights 2..4 (height 1's own set is not in the vector),
  skipping 2 -> 4 (1/3 of the trusted set still signs), adjacent 3 -> 4;
* ``TestHalfValsetChangesVerdictNotEnoughTrust`` cut at 3: heights 1..3,
  skipping 1 -> 3, adjacent 2 -> 3.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.cometbft.conformance import CometBftTarget, target_from_config
from adapters.testing import ChainAdapterConformance
from proofs.cometbft import parse_time
from tests.adapters.cometbft_recording import CometBftRecording
from tests.fixtures.vectors import vectors_dir

NS = 1_000_000_000


def recorded_target(name: str, *, top: int | None = None) -> CometBftTarget:
    recording = CometBftRecording(vectors_dir(), name, top=top)
    now = parse_time(recording.header_time(recording.top)) // NS + 1
    options = {
        "chain_id": recording.chain_id,
        "rpc_url": "http://recording.invalid:26657",
        "trusting_period": recording.trusting_period_s,
        "validators_per_page": 2,  # the 4-validator sets come in two pages
    }
    target_options = {
        "offline": True,
        "now": now,
        "header_span": recording.top - recording.lowest - 1,
    }
    return target_from_config(options, target_options, transport=recording)


class TestCometBftRecordedValsetHalves(ChainAdapterConformance):
    """The kit on MC4_4_faulty_TestValsetHalves (heights 2..4)."""

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_target(cls) -> CometBftTarget:
        return recorded_target("MC4_4_faulty_TestValsetHalves.json")


class TestCometBftRecordedHalfValsetChanges(ChainAdapterConformance):
    """The kit on MC4_4_faulty_TestHalfValsetChangesVerdictNotEnoughTrust (heights 1..3)."""

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_target(cls) -> CometBftTarget:
        return recorded_target(
            "MC4_4_faulty_TestHalfValsetChangesVerdictNotEnoughTrust.json", top=3
        )


def test_the_recordings_are_read_from_the_shared_vectors() -> None:
    """The recording holds the vector's blocks (nothing copied into the repository)."""
    recording = CometBftRecording(vectors_dir(), "MC4_4_faulty_TestValsetHalves.json")
    assert (recording.lowest, recording.top) == (2, 4)
    assert not list(Path(__file__).parent.glob("*.json"))
