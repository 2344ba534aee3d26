"""The adapter conformance kit against the FISCO BCOS 2.x adapter, on recorded real headers.

No FISCO node can run here (no binary, no internet): the adapter talks to
``FiscoRecording`` (``tests/adapters/fisco_recording.py``), JSON-RPC answers
built from the real 2.x headers of ``../shared/vectors/fisco-bcos/``. The
target is ``offline``: the kit skips the checks that need the chain to act
(trigger a packet, commit a submission) and, since each vector is block 1 of
its chain alone, the checks that verify a header from a trusted block below it;
every other check runs on the recorded data. The malleate rows the kit cannot
run on one height run in ``test_fisco_adapter.py`` from the trusted genesis.

* ``TestFiscoRecordedFourSealers``: the 4-sealer header (3 signatures);
* ``TestFiscoRecordedOneSealer``: the 1-sealer block (1 signature).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.fisco.conformance import FiscoTarget, target_from_config
from adapters.testing import ChainAdapterConformance
from tests.adapters.fisco_recording import FOUR_SEALERS, ONE_SEALER, FiscoRecording
from tests.fixtures.vectors import vectors_dir

TRUST_FILE = Path(__file__).resolve().parents[2] / "docs" / "trust" / "fisco-4sealers.json"


def recorded_target(name: str, **options: object) -> FiscoTarget:
    recording = FiscoRecording(vectors_dir(), name)
    now = int(recording.header["timestamp"], 16) // 1000 + 1
    settings = {
        "chain_id": f"fisco-recorded-{len(recording.header['sealerList'])}",
        "group_id": 1,
        "rpc_url": "http://recording.invalid:8545",
        **options,
    }
    return target_from_config(settings, {"offline": True, "now": now}, transport=recording)


class TestFiscoRecordedFourSealers(ChainAdapterConformance):
    """The kit on the 4-sealer header, its sealers pinned by the trust file."""

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_target(cls) -> FiscoTarget:
        return recorded_target(FOUR_SEALERS, trust_file=str(TRUST_FILE))


class TestFiscoRecordedOneSealer(ChainAdapterConformance):
    """The kit on the 1-sealer block (no trust file: the checkpoint's own list)."""

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_target(cls) -> FiscoTarget:
        return recorded_target(ONE_SEALER)


def test_the_recordings_are_read_from_the_shared_vectors() -> None:
    """The recording holds the vector's header (nothing copied into the repository)."""
    recording = FiscoRecording(vectors_dir())
    assert recording.number == 1
    assert not list(Path(__file__).parent.glob("*.json"))
