"""The CometBFT light client on the real tendermint-rs vectors (read in place from ../shared).

Each model-based file is run as the upstream runner does (PROVENANCE.md):
trusted = ``initial.signed_header`` with ``initial.next_validator_set``; each
input step verified with trust level 1/3, the file's trusting period, clock
drift 0, at the step's ``now``; SUCCESS moves the trusted block. The verdict
must match on every step: SUCCESS, NOT_ENOUGH_TRUST (``NotEnoughTrust``) or
INVALID (any other ``VerificationError``).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from core.errors import VerificationError
from proofs.cometbft import (
    LightBlock,
    SignedHeader,
    TrustedBlock,
    TrustOptions,
    ValidatorSet,
    parse_time,
    verify_light_block,
)
from proofs.cometbft.errors import NotEnoughTrust
from proofs.cometbft.hashing import header_hash, validator_set_hash
from proofs.cometbft.types import Header
from tests.fixtures.vectors import vectors_dir

ROOT = vectors_dir() / "cometbft-light-client" / "tendermint-rs"
MODEL_FILES = sorted((ROOT / "model_based" / "single_step").glob("*.json"))
KNOWN_HASH = "F30A71F2409FB15AACAEDB6CC122DFA2525BEE9CAE521721B06BFDCA291B8D56"


def run_file(path: Path) -> list[tuple[str, str, str]]:
    """``[(expected, got, reason)]`` for every step of one model-based file."""
    data = json.loads(path.read_text())
    initial = data["initial"]
    options = TrustOptions(trusting_period_ns=int(initial["trusting_period"]), max_clock_drift_ns=0)
    trusted = TrustedBlock.from_signed_header(
        SignedHeader.from_json(initial["signed_header"]),
        ValidatorSet.from_json(initial["next_validator_set"]),
    )
    results = []
    for step in data["input"]:
        try:
            block = LightBlock.from_json(step["block"])
            new = verify_light_block(trusted, block, options, parse_time(step["now"]))
        except NotEnoughTrust as err:
            got, reason = "NOT_ENOUGH_TRUST", err.code
        except VerificationError as err:
            got, reason = "INVALID", err.code
        else:
            got, reason = "SUCCESS", ""
            trusted = new
        results.append((step["verdict"], got, reason))
    return results


def test_all_forty_model_based_files_are_present() -> None:
    assert len(MODEL_FILES) == 40


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.stem)
def test_model_based_file_verdicts_match(path: Path) -> None:
    results = run_file(path)
    assert results
    mismatches = [(i, r) for i, r in enumerate(results) if r[0] != r[1]]
    assert not mismatches, mismatches


def test_model_based_verdict_counts() -> None:
    """The totals recorded in docs/cometbft.md: 98 steps, each verdict kind exercised."""
    counts = Counter(expected for path in MODEL_FILES for expected, _, _ in run_file(path))
    assert counts == {"SUCCESS": 43, "NOT_ENOUGH_TRUST": 42, "INVALID": 13}


def test_header_with_known_hash() -> None:
    data = json.loads(
        (ROOT / "serialization" / "block" / "header_with_known_hash.json").read_text()
    )
    assert header_hash(Header.from_json(data)).hex().upper() == KNOWN_HASH


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: p.stem)
def test_every_block_hash_and_validator_hash_reproduced(path: Path) -> None:
    """Every well-formed block's header hashes to its commit's block id and its sets to the
    header's hashes (PROVENANCE: true of all blocks in all 40 files)."""
    data = json.loads(path.read_text())
    for step in data["input"]:
        raw = step["block"]
        if not raw["signed_header"]["commit"]["signatures"]:
            continue  # the empty-commit INVALID step has nothing to hash against
        block = LightBlock.from_json(raw)
        assert header_hash(block.header) == block.commit.block_id.hash
        assert validator_set_hash(block.validators) == block.header.validators_hash
        assert block.next_validators is not None
        assert validator_set_hash(block.next_validators) == block.header.next_validators_hash
