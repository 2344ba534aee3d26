"""A batch short of its quorum is looked at often and worked on rarely (issue #15).

``BatchedNotaryProtocol._waiting_changed`` decides when a waiting batch's members are
read, their timeouts checked and their note written: at once when its signer count
moves, otherwise once every ``wait_interval`` (the batch is looked at every
``batch_poll``).
"""

from __future__ import annotations

from types import SimpleNamespace

from relayer.protocols.batched import QUORUM_POLLS_KEPT, BatchedNotaryProtocol
from relayer.settings import RelayerSettings


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def protocol(clock: Clock) -> BatchedNotaryProtocol:
    settings = RelayerSettings(wait_interval=2.0, batch_poll=0.25)
    ctx = SimpleNamespace(settings=settings, now=clock)
    return BatchedNotaryProtocol(ctx)  # type: ignore[arg-type]


def test_a_waiting_batch_is_worked_on_when_its_signers_change_or_the_interval_passes() -> None:
    clock = Clock()
    batches = protocol(clock)
    assert batches._waiting_changed("ba_1", 0)  # first look
    clock.now += 0.25
    assert not batches._waiting_changed("ba_1", 0)  # same signers, inside the interval
    clock.now += 0.25
    assert batches._waiting_changed("ba_1", 1)  # a signature arrived: at once
    clock.now += 1.9
    assert not batches._waiting_changed("ba_1", 1)
    clock.now += 0.1  # wait_interval since the last full look
    assert batches._waiting_changed("ba_1", 1)
    assert batches._waiting_changed("ba_2", 1)  # batches are counted apart


def test_the_remembered_looks_are_bounded() -> None:
    clock = Clock()
    batches = protocol(clock)
    for n in range(QUORUM_POLLS_KEPT + 10):
        batches._waiting_changed(f"ba_{n}", 0)
    assert len(batches._quorum_polls) == QUORUM_POLLS_KEPT
    assert batches._waiting_changed("ba_0", 0)  # the oldest was forgotten: looked at again
