"""Properties on a real SUCCESS step: any changed signature or header byte is rejected."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import VerificationError
from proofs.cometbft import LightBlock, verify_light_block
from proofs.cometbft.types import BlockIdFlag
from tests.proofs.cometbft.test_cometbft_checks import NOW, OPTIONS, block_json, trusted

BLOCK = LightBlock.from_json(block_json())
SIGNED = [i for i, s in enumerate(BLOCK.commit.signatures) if s.flag is BlockIdFlag.COMMIT]
BYTE_FIELDS = [
    "last_commit_hash",
    "data_hash",
    "validators_hash",
    "next_validators_hash",
    "consensus_hash",
    "app_hash",
    "last_results_hash",
    "evidence_hash",
    "proposer_address",
]


def test_base_block_verifies() -> None:
    assert verify_light_block(trusted(), BLOCK, OPTIONS, NOW).height == BLOCK.height


@settings(max_examples=60, deadline=None)
@given(slot=st.sampled_from(SIGNED), index=st.integers(0, 63), mask=st.integers(1, 255))
def test_flipping_a_signature_byte_is_rejected(slot: int, index: int, mask: int) -> None:
    sigs = list(BLOCK.commit.signatures)
    raw = bytearray(sigs[slot].signature)
    raw[index] ^= mask
    sigs[slot] = replace(sigs[slot], signature=bytes(raw))
    block = replace(
        BLOCK,
        signed_header=replace(
            BLOCK.signed_header, commit=replace(BLOCK.commit, signatures=tuple(sigs))
        ),
    )
    with pytest.raises(VerificationError):
        verify_light_block(trusted(), block, OPTIONS, NOW)


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(BYTE_FIELDS), data=st.data())
def test_changing_a_header_byte_is_rejected(name: str, data: st.DataObject) -> None:
    value = bytearray(getattr(BLOCK.header, name) or bytes(32))  # empty -> 32 bytes: a change too
    index = data.draw(st.integers(0, len(value) - 1), label="index")
    value[index] ^= data.draw(st.integers(1, 255), label="mask")
    header = replace(BLOCK.header, **{name: bytes(value)})
    block = replace(BLOCK, signed_header=replace(BLOCK.signed_header, header=header))
    with pytest.raises(VerificationError):
        verify_light_block(trusted(), block, OPTIONS, NOW)


@settings(max_examples=30, deadline=None)
@given(
    delta=st.integers(-(10**12), 10**12).filter(bool), which=st.sampled_from(["height", "time_ns"])
)
def test_changing_height_or_time_is_rejected(delta: int, which: str) -> None:
    header = BLOCK.header
    value = max(1, getattr(header, which) + delta)
    if value == getattr(header, which):
        value += 1
    block = replace(
        BLOCK, signed_header=replace(BLOCK.signed_header, header=replace(header, **{which: value}))
    )
    with pytest.raises(VerificationError):
        verify_light_block(trusted(), block, OPTIONS, NOW)
