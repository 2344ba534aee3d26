"""The relayer's light clients: the one follower (``adapters.follower``) over the hub's store.

What is the relayer's own here is only the trust choices, read from
``RelayerSettings``: operator checkpoints per chain, trusting periods, and
TOFU just below the first height to verify when no checkpoint is given
(``docs/relayer.md``). Every relayer process shares the store's records, so a
freeze seen by one stops the routes of every process.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from adapters.follower import Anchor, FollowerSettings, LightClientFollower, StorePersistence
from core.ids import ChainId
from core.seams import ChainAdapter, Store
from relayer.settings import RelayerSettings


def relayer_follower(
    store: Store,
    adapters: Mapping[ChainId, ChainAdapter],
    settings: RelayerSettings,
    clock: Callable[[], float],
) -> LightClientFollower:
    """The follower of every chain this relayer reads, persisted in ``store``."""

    def periods(chain_id: ChainId) -> tuple[int, int]:
        params = settings.client_params(str(chain_id))
        return params.trusting_period, params.max_clock_drift

    return LightClientFollower(
        StorePersistence(store),
        adapters,
        FollowerSettings(
            checkpoints={
                chain: Anchor(c.height, c.hash_bytes) for chain, c in settings.checkpoints.items()
            },
            trusting_period=periods,
            max_backfill=settings.max_backfill,
            max_consensus_states=settings.max_consensus_states,
            tofu_below_target=True,
        ),
        clock,
    )


__all__ = ["relayer_follower"]
