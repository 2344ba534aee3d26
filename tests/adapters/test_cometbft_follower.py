"""The CometBFT light client runs in the one follower, on recorded real light blocks.

The follower (``adapters.follower``) knows CometBFT only through the seam: the
adapter's ``header_update`` and ``client_codec``, the ``LightClient``. Here it
anchors at an operator checkpoint of a recording of really signed tendermint-rs
light blocks (``tests/adapters/cometbft_recording.py``), advances by skipping
verification, bisects where the trusted set's overlap is too small, and
persists every state in both back-ends (the hub's store, a notary's files);
the persisted bytes decode back to the states verified.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.cometbft import CometBftAdapter, CometBftSettings
from adapters.follower import (
    Anchor,
    ClientPersistence,
    FollowerSettings,
    LightClientFollower,
)
from core.errors import ClientFrozen, InsufficientPower
from core.ids import ChainId, Height
from proofs.cometbft import parse_time
from proofs.cometbft.hashing import header_hash
from proofs.cometbft.light_client import decode_envelope
from tests.adapters.cometbft_recording import CometBftRecording
from tests.fixtures.follower import PERSISTENCE_BACKENDS
from tests.fixtures.vectors import vectors_dir

NS = 1_000_000_000
VALSET_HALVES = "MC4_4_faulty_TestValsetHalves.json"
CHANGES_FULLY = "MC4_4_faulty_TestValsetChangesFully.json"


def _follow(
    name: str,
    persistence: ClientPersistence,
    anchor_height: int,
    target: int,
    *,
    top: int | None = None,
) -> tuple[object, CometBftRecording, CometBftAdapter, LightClientFollower]:
    recording = CometBftRecording(vectors_dir(), name, top=top)
    settings = CometBftSettings(
        chain_id=recording.chain_id,
        rpc_url="http://recording.invalid:26657",
        trusting_period=recording.trusting_period_s,
        validators_per_page=2,
    )
    adapter = CometBftAdapter(settings, transport=recording)
    now = parse_time(recording.header_time(recording.top)) // NS + 1
    chain = ChainId(recording.chain_id)

    async def anchor_hash() -> bytes:
        return header_hash(decode_envelope(await adapter.header(Height(anchor_height))).header)

    trusted = asyncio.run(anchor_hash())
    follower = LightClientFollower(
        persistence,
        {chain: adapter},
        FollowerSettings(
            checkpoints={str(chain): Anchor(anchor_height, trusted)},
            trusting_period=lambda _: (recording.trusting_period_s, 10),
            tofu_below_target=True,
        ),
        clock=lambda: float(now),
    )

    async def run() -> object:
        try:
            return await follower.verified_at(chain, target)
        except (InsufficientPower, ClientFrozen) as err:
            return err
        finally:
            await adapter.aclose()

    return asyncio.run(run()), recording, adapter, follower


@pytest.mark.parametrize("backend", PERSISTENCE_BACKENDS)
def test_the_follower_skips_from_a_checkpoint_over_a_halved_validator_set(
    backend: Callable[[Path], ClientPersistence], tmp_path: Path
) -> None:
    verified, recording, adapter, follower = _follow(VALSET_HALVES, backend(tmp_path), 2, 4)
    assert int(verified.height) == 4  # type: ignore[attr-defined]
    record = follower.persistence.load(ChainId(recording.chain_id))
    assert record is not None
    assert sorted(record.consensus_states) == [2, 4]  # one skip: 1/3 of the trusted set signed
    codec = adapter.client_codec()
    client = codec.decode_client(record.client_state)
    stored = codec.decode_consensus(record.consensus_states[4], client)
    assert stored == verified.consensus_state  # type: ignore[attr-defined]
    assert codec.state_hash(stored) == verified.header_hash  # type: ignore[attr-defined]


@pytest.mark.parametrize("backend", PERSISTENCE_BACKENDS)
def test_the_follower_bisects_across_a_validator_set_the_trusted_one_barely_signs(
    backend: Callable[[Path], ClientPersistence], tmp_path: Path
) -> None:
    verified, recording, adapter, follower = _follow(CHANGES_FULLY, backend(tmp_path), 2, 4)
    assert int(verified.height) == 4  # type: ignore[attr-defined]
    record = follower.persistence.load(ChainId(recording.chain_id))
    assert record is not None
    assert sorted(record.consensus_states) == [2, 3, 4]  # 2 -> 4 refused, so 2 -> 3 -> 4
    assert not record.frozen
    # The direct skip is what failed: too little of the set trusted at 2 signed 4.
    codec, lc = adapter.client_codec(), adapter.light_client()
    client = codec.decode_client(record.client_state)
    at_2 = codec.decode_consensus(record.consensus_states[2], client)

    async def header_4() -> object:
        fresh = CometBftAdapter(adapter.settings, transport=recording)  # the first one is closed
        try:
            return await fresh.header(Height(4))
        finally:
            await fresh.aclose()

    now = parse_time(recording.header_time(recording.top)) // NS + 1
    with pytest.raises(InsufficientPower):
        lc.verify_header(client, at_2, asyncio.run(header_4()), now)
