"""The FISCO BCOS 2.x light client in the one follower, on the recorded real header.

The follower (``adapters.follower``) knows FISCO only through the seam: the
adapter's ``header``, the ``client_codec`` and the ``LightClient``. Each vector
is block 1 of its chain alone, so there is no later block to verify here: what
the recording allows, and all that is tested, is anchoring at an operator's
checkpoint (height 1 and the real hash, the sealers pinned by the trust file),
the persisted bytes decoding back to the anchored state in both back-ends (the
hub's store, a notary's files), the recheck of the trusted height against what
the node serves (the same header passes; another header there is refused), a
checkpoint the node's header does not match, and a height above the tip. Advancing
from the checkpoint waits for a recording of consecutive blocks (``docs/fisco.md``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from adapters.fisco import FiscoAdapter, FiscoSettings
from adapters.follower import (
    Anchor,
    ClientPersistence,
    FollowerSettings,
    LightClientFollower,
)
from core.errors import ConfigError, NotFound, RootMismatch
from core.ids import ChainId
from tests.adapters.fisco_recording import FOUR_SEALERS, ONE_SEALER, FiscoRecording
from tests.fixtures.follower import PERSISTENCE_BACKENDS
from tests.fixtures.vectors import vectors_dir

TRUST_FILE = Path(__file__).resolve().parents[2] / "docs" / "trust" / "fisco-4sealers.json"
CHAIN = ChainId("fisco-recorded-4")


def _follower(
    persistence: ClientPersistence, served: str = FOUR_SEALERS, checkpoint: bytes | None = None
) -> tuple[LightClientFollower, FiscoAdapter, FiscoRecording]:
    real = FiscoRecording(vectors_dir(), FOUR_SEALERS)
    recording = FiscoRecording(vectors_dir(), served)
    settings = FiscoSettings(
        chain_id=str(CHAIN), rpc_url="http://recording.invalid:8545", trust_file=str(TRUST_FILE)
    )
    adapter = FiscoAdapter(settings, transport=recording)
    now = int(real.header["timestamp"], 16) // 1000 + 1
    trusted = checkpoint if checkpoint is not None else bytes.fromhex(real.hash[2:])
    follower = LightClientFollower(
        persistence,
        {CHAIN: adapter},
        FollowerSettings(
            checkpoints={str(CHAIN): Anchor(1, trusted)},
            trusting_period=lambda _: (settings.trusting_period, settings.max_clock_drift),
        ),
        clock=lambda: float(now),
    )
    return follower, adapter, recording


def _run(adapter: FiscoAdapter, call: Callable[[], object]) -> object:
    async def run() -> object:
        try:
            return await call()  # type: ignore[misc]
        finally:
            await adapter.aclose()

    return asyncio.run(run())


@pytest.mark.parametrize("backend", PERSISTENCE_BACKENDS)
def test_the_follower_anchors_at_the_checkpoint_and_persists_what_it_trusts(
    backend: Callable[[Path], ClientPersistence], tmp_path: Path
) -> None:
    follower, adapter, recording = _follower(backend(tmp_path))

    async def anchored_and_rechecked() -> object:
        first = await follower.verified_at(CHAIN, 1)
        again = await follower.verified_at(CHAIN, 1, recheck=True)  # the node serves the same
        assert again.consensus_state == first.consensus_state
        return first

    verified = _run(adapter, anchored_and_rechecked)
    assert verified.header_hash.hex() == recording.hash[2:]  # type: ignore[attr-defined]
    record = follower.persistence.load(CHAIN)
    assert record is not None
    assert sorted(record.consensus_states) == [1]
    assert not record.frozen
    codec = adapter.client_codec()
    client = codec.decode_client(record.client_state)
    stored = codec.decode_consensus(record.consensus_states[1], client)
    assert stored == verified.consensus_state  # type: ignore[attr-defined]
    assert codec.encode_consensus(stored) == record.consensus_states[1]
    assert len(stored.sealers) == 4


@pytest.mark.parametrize("backend", PERSISTENCE_BACKENDS)
def test_another_header_served_at_the_trusted_height_is_refused(
    backend: Callable[[Path], ClientPersistence], tmp_path: Path
) -> None:
    persistence = backend(tmp_path)
    follower, adapter, _ = _follower(persistence)
    _run(adapter, lambda: follower.verified_at(CHAIN, 1))
    # The same chain's node now serves the 1-sealer block at height 1: no trusted state lies
    # below it to verify that one, so it is refused and the client keeps what it trusts.
    liar, lying_adapter, _ = _follower(persistence, served=ONE_SEALER)
    with pytest.raises(RootMismatch):
        _run(lying_adapter, lambda: liar.verified_at(CHAIN, 1, recheck=True))
    record = persistence.load(CHAIN)
    assert record is not None
    assert not record.frozen


@pytest.mark.parametrize("backend", PERSISTENCE_BACKENDS)
def test_a_checkpoint_the_node_does_not_match_and_a_height_above_the_tip(
    backend: Callable[[Path], ClientPersistence], tmp_path: Path
) -> None:
    follower, adapter, _ = _follower(backend(tmp_path), checkpoint=bytes(32))
    with pytest.raises(ConfigError, match="does not match the configured checkpoint"):
        _run(adapter, lambda: follower.verified_at(CHAIN, 1))
    assert follower.persistence.load(CHAIN) is None
    follower, adapter, _ = _follower(backend(tmp_path / "again"))
    with pytest.raises(NotFound):
        _run(adapter, lambda: follower.verified_at(CHAIN, 2))
