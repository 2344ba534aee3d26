"""The store's writes per transfer (issue #15): ``record_packets`` and ``move_many``, before/after.

``python bench/store_writes.py [--chunks N] [--rounds R]``: on a fresh SQLite file per
case and round, N chunks of 500 new packets recorded with
``SqlStore.record_packets`` (the watcher's chunk), then every transfer taken through two
``move_many`` moves of 250 members (a batch's moves), in three cases measured in the same
run, interleaved round by round (the best of R rounds: the machine is shared, and the
least disturbed round is the code's own cost):

* ``before``: the per-packet path (``gateway.store.sql._record_rowwise``) and the
  ``rfc8785`` package canonicalising every audit entry (the code before issue #15's
  store work, except ``move_many``'s staging);
* ``bulk``: the bulk path, entries still through ``rfc8785``;
* ``after``: the bulk path and ``proofs.audit.canonical_bytes``' fast path;
* ``final``: ``after`` with ``record_packets(final=True)``: recorded in ``source_final``
  with the two moves' lines and entries, no ``move_many`` left to do.

Prints packets/s and the time one chunk holds the write transaction (SQLite's write lock
from ``BEGIN IMMEDIATE`` to commit: the whole call), moves/s of ``move_many``, the store
time per transfer of recording it and its two moves, and the ratios after/before; then
``canonical_bytes`` alone, fast path vs ``rfc8785``.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
import timeit
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import rfc8785

from core.ids import ChainId, PacketId
from core.records import (
    ChainRecord,
    NewTransfer,
    RouteProtocol,
    RouteRecord,
    SeenPacket,
    TransferKind,
)
from core.states import TransferState
from gateway.audit import log as audit_log
from gateway.store import SqlStore
from gateway.store import sql as sql_module
from proofs import audit as proofs_audit

CHUNK = 500
MOVE = 250
A, B = ChainId("chain-a"), ChainId("chain-b")
CASES = ("before", "bulk", "after", "final")


def _reference_canonical(entry: Mapping[str, Any]) -> bytes:
    """``canonical_bytes`` as it was: the checks, then ``rfc8785`` for every entry."""
    body = {name: entry[name] for name in proofs_audit.ENTRY_FIELDS if name in entry}
    proofs_audit._check_values(body, "entry")
    return rfc8785.dumps(body)


@contextmanager
def _case(name: str) -> Iterator[None]:
    chunk, canonical = sql_module._record_chunk, audit_log.canonical_bytes
    if name == "before":
        sql_module._record_chunk = sql_module._record_rowwise
    if name in ("before", "bulk"):
        audit_log.canonical_bytes = _reference_canonical  # type: ignore[assignment]
    try:
        yield
    finally:
        sql_module._record_chunk = chunk
        audit_log.canonical_bytes = canonical  # type: ignore[assignment]


def _store(url: str) -> SqlStore:
    store = SqlStore(url)
    store.migrate()
    store.upsert_chain(ChainRecord(A, "pujiang"))
    store.upsert_chain(ChainRecord(B, "evm"))
    store.upsert_route(RouteRecord("r", A, B, RouteProtocol.NOTARY))
    return store


def _seen(sequence: int) -> SeenPacket:
    tx = sequence.to_bytes(32, "big")
    return SeenPacket(
        new=NewTransfer(
            route_id="r",
            kind=TransferKind.ASSET,
            sender="0x" + "11" * 20,
            receiver="0x" + "22" * 20,
            denom="upj",
            amount=1000 + sequence,
            packet=PacketId(A, B, sequence),
            source_tx=tx,
            reason=f"packet seen on {A}",
        ),
        reason=f"send_packet {A}->{B}#{sequence} seen in block {sequence // 50} of {A}",
        source_height=sequence // 50,
        source_position=(sequence // 50, sequence % 50, 0),
        source_event=b"\x00" * 200,
        packet_data={"sequence": sequence, "amount": 1000 + sequence, "denom": "upj"},
        source_attributes={"tx_index": sequence % 50},
    )


def _run(url: str, chunks: int, *, final: bool = False) -> tuple[float, float, float, float]:
    """(packets/s recorded, seconds per chunk, member moves/s, µs per transfer for the
    record and both moves); ``final``: recorded in ``source_final``, no moves left."""
    store = _store(url)
    try:
        record_s = 0.0
        for c in range(chunks):
            packets = [_seen(c * CHUNK + i + 1) for i in range(CHUNK)]
            start = time.perf_counter()
            store.record_packets(packets, 1000.0 + c, **({"final": True} if final else {}))
            record_s += time.perf_counter() - start
        total = chunks * CHUNK
        if final:
            return total / record_s, record_s / chunks, math.nan, record_s / total * 1e6
        ids: list[str] = []
        after = None
        while True:
            page, after = store.list_transfers(limit=1000, after=after)
            ids += [t.id for t in page]
            if after is None:
                break
        move_s = 0.0
        steps = [
            (TransferState.REQUESTED, TransferState.SOURCE_COMMITTED),
            (TransferState.SOURCE_COMMITTED, TransferState.SOURCE_FINAL),
        ]
        for old, new in steps:
            for first in range(0, len(ids), MOVE):
                start = time.perf_counter()
                store.move_many(ids[first : first + MOVE], old, new, "bench", 2000.0)
                move_s += time.perf_counter() - start
        moves_s = total * len(steps) / move_s
        return total / record_s, record_s / chunks, moves_s, (record_s + move_s) / total * 1e6
    finally:
        store.close()


def _canonical_rates() -> tuple[float, float]:
    entry = audit_log.entry_of(
        123_456,
        audit_log.Staged(
            "transfer.source_event",
            "transfer",
            "tr_" + "ab" * 16,
            1_796_600_000_000,
            None,
            {"state": "requested", "tx_hash": "0x" + "cd" * 32, "chain_id": "chain-a"},
            "send_packet chain-a->chain-b#42 seen in block 7 of chain-a",
            audit_log.context.SYSTEM,
        ),
    )
    assert proofs_audit.canonical_bytes(entry) == _reference_canonical(entry)
    n = 20_000
    rates = []
    for fn in (proofs_audit.canonical_bytes, _reference_canonical):
        seconds = min(timeit.repeat(lambda fn=fn: fn(entry), number=n, repeat=3))
        rates.append(n / seconds)
    return rates[0], rates[1]


def _best(field: int, values: list[float]) -> float:
    """The best of the rounds: the highest rate (fields 0 and 2), the lowest time (1, 3)."""
    return max(values) if field in (0, 2) else min(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chunks", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--plain",
        action="store_true",
        help="measure the code as it is, no case swapped (run it on a checkout of main "
        "with PYTHONPATH for the before of move_many's own changes)",
    )
    args = parser.parse_args()
    if args.plain:
        with tempfile.TemporaryDirectory() as folder:
            runs = [_run(f"sqlite:///{Path(folder) / f'{r}.db'}", args.chunks)
                    for r in range(args.rounds)]  # fmt: skip
        packets_s, chunk_s, moves_s, _ = (_best(i, [r[i] for r in runs]) for i in range(4))
        print(f"as is: {packets_s:.0f} packets/s, {chunk_s * 1000:.0f} ms/chunk, "
              f"{moves_s:.0f} moves/s (best of {args.rounds})")  # fmt: skip
        return
    results: dict[str, list[tuple[float, float, float, float]]] = {c: [] for c in CASES}
    with tempfile.TemporaryDirectory() as folder:
        for r in range(args.rounds):
            for case in CASES:
                url = f"sqlite:///{Path(folder) / f'{case}-{r}.db'}"
                with _case(case):
                    results[case].append(_run(url, args.chunks, final=case == "final"))

    def best(case: str, i: int) -> float:
        return _best(i, [run[i] for run in results[case]])

    print(f"record_packets: {args.chunks} chunks of {CHUNK} new packets, "
          f"move_many: 2 moves in batches of {MOVE}; best of {args.rounds} rounds")  # fmt: skip
    print(f"{'case':8} {'packets/s':>10} {'ms/chunk (lock held)':>21} {'moves/s':>9} "
          f"{'µs/transfer, record + 2 moves':>30}")  # fmt: skip
    for case in CASES:
        print(f"{case:8} {best(case, 0):10.0f} {best(case, 1) * 1000:21.0f} "
              f"{best(case, 2):9.0f} {best(case, 3):30.0f}")  # fmt: skip
    ratio = [best("after", i) / best("before", i) for i in range(4)]
    final = best("final", 3) / best("before", 3)
    print(f"after / before: record_packets x{ratio[0]:.2f} (lock held per chunk "
          f"x{ratio[1]:.2f}), move_many x{ratio[2]:.2f}, record + 2 moves x{ratio[3]:.2f}; "
          f"final / before: record + 2 moves x{final:.2f}")  # fmt: skip
    fast, reference = _canonical_rates()
    print(f"canonical_bytes: fast path {fast:.0f}/s, rfc8785 {reference:.0f}/s "
          f"(x{fast / reference:.2f})")  # fmt: skip


if __name__ == "__main__":
    main()
