"""Batch assembly rules (``relayer/batching.py``): size limit, one route per batch, linger."""

from __future__ import annotations

import pytest

from core.batches import MAX_BATCH_SIZE
from core.errors import InvalidInput
from core.records import TransferKind, TransferRecord
from core.states import TransferState
from relayer.batching import chunks_of, plan_batches


def proven(i: int, *, route: str = "a-to-b", at: float = 100.0) -> TransferRecord:
    return TransferRecord(
        id=f"tr_{i:04d}",
        route_id=route,
        kind=TransferKind.ASSET,
        sender="s",
        receiver="r",
        denom="upj",
        amount=1,
        payload=b"",
        timeout_height=0,
        timeout_time=0,
        state=TransferState.PROVEN,
        reason="proven",
        packet=None,
        source_tx=None,
        source_height=None,
        source_position=None,
        source_event=b"",
        dest_tx=None,
        attempts=0,
        next_attempt_at=at,
        created_at=at,
        updated_at=at + i / 1000,
    )


def test_a_batch_holds_at_most_max_size_packets_oldest_first() -> None:
    ready = [proven(i) for i in reversed(range(600))]
    batches = plan_batches(ready, route_id="a-to-b", max_size=256, linger=0.0, now=200.0)
    assert [len(b) for b in batches] == [256, 256, 88]
    assert [t.id for t in batches[0]] == [f"tr_{i:04d}" for i in range(256)]


def test_one_route_per_batch() -> None:
    ready = [proven(1), proven(2, route="b-to-c"), proven(3)]
    (batch,) = plan_batches(ready, route_id="a-to-b", max_size=10, linger=0.0, now=200.0)
    assert [t.id for t in batch] == ["tr_0001", "tr_0003"]


def test_a_partial_batch_lingers_until_its_oldest_member_waited() -> None:
    ready = [proven(i, at=100.0) for i in range(3)]
    assert plan_batches(ready, route_id="a-to-b", max_size=10, linger=1.0, now=100.5) == []
    (batch,) = plan_batches(ready, route_id="a-to-b", max_size=10, linger=1.0, now=101.1)
    assert len(batch) == 3


def test_a_full_batch_goes_at_once_and_the_partial_rest_lingers() -> None:
    ready = [proven(i, at=100.0) for i in range(12)]
    batches = plan_batches(ready, route_id="a-to-b", max_size=10, linger=5.0, now=100.1)
    assert [len(b) for b in batches] == [10]


@pytest.mark.parametrize("size", [0, MAX_BATCH_SIZE + 1])
def test_a_batch_size_outside_the_limit_is_refused(size: int) -> None:
    with pytest.raises(InvalidInput):
        plan_batches([proven(1)], route_id="a-to-b", max_size=size, linger=0.0, now=1.0)


def test_chunks_follow_the_destinations_capacity() -> None:
    assert [len(c) for c in chunks_of(list(range(7)), 3)] == [3, 3, 1]  # type: ignore[arg-type]
