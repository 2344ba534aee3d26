"""The adapter conformance kit against the ChainMaker adapter, on the real blocks of ``chain1``.

No ChainMaker node can run here: the adapter talks to ``ChainMakerRecording``
(``tests/adapters/chainmaker_recording.py``), a bridge answering from the real
v2.3.2 blocks. The target is ``offline``: the kit skips the checks that need the
chain to act (cause a packet, commit a submission) and those that need a bridge
event (none is deployed on ChainMaker), and runs every other one.

The kit walks consecutive heights, so it runs on the one consecutive pair
recorded: blocks 2 and 3 (``pre_block_hash`` of 3 is the hash of 2), the
checkpoint at 2 (``lowest_height``), configuration 0 of the trust file. The
skip 30 -> 34 (configuration 22) is in ``test_chainmaker_adapter.py`` and the
follower's tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.chainmaker.conformance import ChainMakerTarget, target_from_config
from adapters.testing import ChainAdapterConformance
from tests.adapters.chainmaker_recording import CHAIN_ID, ChainMakerRecording
from tests.fixtures.vectors import vectors_dir

TRUST_FILE = Path(__file__).resolve().parents[2] / "docs" / "trust" / "chainmaker-chain1.json"


def recorded_target(heights: tuple[int, ...]) -> ChainMakerTarget:
    recording = ChainMakerRecording(vectors_dir(), heights)
    options = {
        "chain_id": CHAIN_ID,
        "rpc_url": "http://recording.invalid:12301",
        "trust_file": str(TRUST_FILE),
    }
    target_options = {
        "offline": True,
        "now": recording.block_time(recording.top) + 1,
        "header_span": recording.top - recording.lowest,
        "lowest_height": recording.lowest,
    }
    return target_from_config(options, target_options, transport=recording)


class TestChainMakerRecordedChain1(ChainAdapterConformance):
    """The kit on chain1's blocks 2 (full) and 3 (header and certificate)."""

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_target(cls) -> ChainMakerTarget:
        return recorded_target((2, 3))


def test_the_recording_is_read_from_the_shared_vectors() -> None:
    """The recording holds the vector's blocks (nothing copied into the repository)."""
    recording = ChainMakerRecording(vectors_dir(), (2, 3))
    assert (recording.lowest, recording.top) == (2, 3)
    assert not list(Path(__file__).parent.glob("*.json"))
