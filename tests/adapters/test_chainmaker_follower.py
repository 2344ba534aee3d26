"""The ChainMaker light client runs in the one follower, on the real blocks of ``chain1``.

The follower (``adapters.follower``) knows ChainMaker only through the seam: the
adapter's ``header_update`` and ``client_codec``, the ``LightClient``. Here it
anchors at an operator checkpoint (a real block's hash) of a recording of the
real blocks (``tests/adapters/chainmaker_recording.py``) and verifies forward:
2 -> 3 adjacent (parent hash and certificate), 30 -> 34 skipping (the
certificate of 34 under configuration 22, which the trust file assumes); 2 ->
30 is refused, configuration 22's block not being recorded. Every state is
persisted in both back-ends (the hub's store, a notary's files) and decodes back
to the state verified.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.chainmaker import ChainMakerAdapter, ChainMakerSettings
from adapters.follower import (
    Anchor,
    ClientPersistence,
    FollowerSettings,
    LightClientFollower,
)
from core.errors import ConfigError, VerificationError
from core.ids import ChainId, Height
from proofs.chainmaker.errors import UnknownConfig
from tests.adapters.chainmaker_recording import CHAIN_ID, ChainMakerRecording
from tests.adapters.test_chainmaker_conformance import TRUST_FILE
from tests.fixtures.follower import PERSISTENCE_BACKENDS, file_persistence
from tests.fixtures.vectors import vectors_dir


def _follow(
    persistence: ClientPersistence, anchor_height: int, target: int, *, period: int = 7 * 86_400
) -> tuple[object, ChainMakerRecording, ChainMakerAdapter, LightClientFollower]:
    recording = ChainMakerRecording(vectors_dir())
    settings = ChainMakerSettings(
        chain_id=CHAIN_ID,
        rpc_url="http://recording.invalid:12301",
        trust_file=str(TRUST_FILE),
        trusting_period=period,
    )
    adapter = ChainMakerAdapter(settings, transport=recording)
    now = recording.block_time(target) + 1
    chain = ChainId(CHAIN_ID)
    trusted = bytes.fromhex(_hash_hex(recording, anchor_height))
    follower = LightClientFollower(
        persistence,
        {chain: adapter},
        FollowerSettings(
            checkpoints={CHAIN_ID: Anchor(anchor_height, trusted)},
            trusting_period=lambda _: (settings.trusting_period, settings.max_clock_drift),
        ),
        clock=lambda: float(now),
    )

    async def run() -> object:
        try:
            return await follower.verified_at(chain, target)
        except VerificationError as err:
            return err
        finally:
            await adapter.aclose()

    return asyncio.run(run()), recording, adapter, follower


def _hash_hex(recording: ChainMakerRecording, height: int) -> str:
    """The checkpoint: the block hash as the export states it (the operator's choice)."""
    return base64.b64decode(recording.header(height)["block_hash"]).hex()


@pytest.mark.parametrize(("anchor", "target"), [(2, 3), (30, 34)])
@pytest.mark.parametrize("backend", PERSISTENCE_BACKENDS)
def test_the_follower_verifies_real_blocks_forward_from_a_checkpoint(
    backend: Callable[[Path], ClientPersistence], tmp_path: Path, anchor: int, target: int
) -> None:
    verified, recording, adapter, follower = _follow(backend(tmp_path), anchor, target)
    assert not isinstance(verified, Exception), verified
    assert int(verified.height) == target  # type: ignore[attr-defined]
    assert verified.header_hash.hex() == _hash_hex(recording, target)  # type: ignore[attr-defined]
    record = follower.persistence.load(ChainId(CHAIN_ID))
    assert record is not None
    assert sorted(record.consensus_states) == [anchor, target]  # one step, skipping or not
    assert not record.frozen
    codec = adapter.client_codec()
    client = codec.decode_client(record.client_state)
    stored = codec.decode_consensus(record.consensus_states[target], client)
    assert stored == verified.consensus_state  # type: ignore[attr-defined]
    assert codec.state_time_ms(stored) // 1000 == recording.block_time(target)


@pytest.mark.parametrize("backend", PERSISTENCE_BACKENDS)
def test_the_follower_refuses_a_block_under_a_configuration_it_never_verified(
    backend: Callable[[Path], ClientPersistence], tmp_path: Path
) -> None:
    """From block 2 (configuration 0), block 30 names configuration 22, whose block is not
    recorded: refused, and nothing past the checkpoint is persisted (block 30 is 12 days
    after block 2: a trusting period of 30 days keeps the refusal about the configuration)."""
    verified, _, _, follower = _follow(backend(tmp_path), 2, 30, period=30 * 86_400)
    assert isinstance(verified, UnknownConfig)
    record = follower.persistence.load(ChainId(CHAIN_ID))
    assert record is not None
    assert sorted(record.consensus_states) == [2]


def test_a_checkpoint_the_chain_does_not_match_is_the_operators_to_fix(tmp_path: Path) -> None:
    recording = ChainMakerRecording(vectors_dir())
    settings = ChainMakerSettings(
        chain_id=CHAIN_ID, rpc_url="http://recording.invalid:12301", trust_file=str(TRUST_FILE)
    )
    adapter = ChainMakerAdapter(settings, transport=recording)
    follower = LightClientFollower(
        file_persistence(tmp_path),
        {ChainId(CHAIN_ID): adapter},
        FollowerSettings(
            checkpoints={CHAIN_ID: Anchor(2, bytes(32))},
            trusting_period=lambda _: (settings.trusting_period, 10),
        ),
        clock=lambda: float(recording.block_time(3) + 1),
    )

    async def run() -> None:
        try:
            await follower.verified_at(ChainId(CHAIN_ID), Height(3))
        finally:
            await adapter.aclose()

    with pytest.raises(ConfigError):
        asyncio.run(run())
