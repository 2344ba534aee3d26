"""Committee rotations on SQLAlchemy: a mixin of ``SqlStore`` (issue #20, ``core.committee``).

A rotation is one row (``committee_rotations``): the chain whose bridge rotates, the
next committee, its state and the chain's transaction; the outgoing committee's
signatures are ``rotation_signatures`` (one per notary). Creating a rotation and
every change of its state are audited (``rotation.request``, ``rotation.<state>``)
in the same transaction. ``rotation_in_flight`` counts what the OLD committee
certified and the chain has not used yet: the hub drains it before it rotates
(``docs/notary.md`` "Committee rotation").
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.batches import BatchKind
from core.committee import (
    OPEN_ROTATION_STATES,
    RotationRecord,
    RotationState,
    RotationStatement,
)
from core.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from core.ids import ChainId
from core.records import ActionStatus, BatchState, SignatureRecord
from core.states import TransferState
from core.steps import Step
from gateway.audit import log as audit
from gateway.store.models import (
    Action,
    Batch,
    CommitteeRotation,
    RotationSignature,
    Route,
    Transfer,
)

T = TypeVar("T")
MAX_ROTATIONS = 200
_OPEN = sorted(s.value for s in OPEN_ROTATION_STATES)
_MOVES = {
    RotationState.DRAINING: {RotationState.SUBMITTED, RotationState.DONE, RotationState.FAILED},
    RotationState.SUBMITTED: {
        RotationState.SUBMITTED,  # the transaction's hash, once sent
        RotationState.DONE,
        RotationState.FAILED,
        RotationState.DRAINING,
    },
}


def rotation_record(r: CommitteeRotation) -> RotationRecord:
    statement = RotationStatement(
        ChainId(r.chain_id), int(r.epoch), int(r.threshold), tuple(json.loads(r.members))
    )
    return RotationRecord(
        id=r.id,
        route_id=r.route_id,
        statement=statement,
        state=RotationState(r.state),
        created_at=r.created_at,
        updated_at=r.updated_at,
        hold_since=r.hold_since,
        tx_hash=None if r.tx_hash is None else bytes(r.tx_hash),
        note=r.note or "",
        requested_by=r.requested_by or "",
    )


def _summary(r: CommitteeRotation) -> dict[str, object]:
    return {
        "chain": r.chain_id,
        "epoch": int(r.epoch),
        "threshold": int(r.threshold),
        "members": json.loads(r.members),
        "state": r.state,
    }


class RotationStoreMixin:
    """Rotation methods of ``SqlStore`` (contract: ``core.seams.RotationStore``)."""

    if TYPE_CHECKING:

        def _read(self) -> AbstractContextManager[Session]: ...
        def _write(self) -> AbstractContextManager[Session]: ...
        def _write_retrying(self, work: Callable[[Session], T]) -> T: ...

    def create_rotation(
        self, route_id: str, statement: RotationStatement, now: float, *, requested_by: str
    ) -> RotationRecord:
        """Record a rotation in ``draining`` (its hold starts now); ``Conflict`` when the
        chain has an open one or this epoch is done; audited."""

        def work(s: Session) -> RotationRecord:
            route = s.get(Route, route_id)
            if route is None:
                raise NotFound(f"route {route_id!r} not found", route_id=route_id)
            chain = str(statement.chain_id)
            if chain not in (route.source, route.destination):
                raise InvalidInput(f"route {route_id} does not touch {chain}", field="chain")
            open_one = s.scalar(
                select(CommitteeRotation.id).where(
                    CommitteeRotation.chain_id == chain, CommitteeRotation.state.in_(_OPEN)
                )
            )
            if open_one is not None:
                raise Conflict(f"rotation {open_one} of {chain} is still open", rotation=open_one)
            same = s.scalar(
                select(CommitteeRotation.id).where(
                    CommitteeRotation.chain_id == chain,
                    CommitteeRotation.epoch == statement.epoch,
                    CommitteeRotation.state == RotationState.DONE.value,
                )
            )
            if same is not None:
                raise Conflict(f"epoch {statement.epoch} of {chain} is done ({same})")
            row = CommitteeRotation(
                id=uuid.uuid4().hex,
                route_id=route_id,
                chain_id=chain,
                epoch=statement.epoch,
                threshold=statement.threshold,
                members=json.dumps(list(statement.members)),
                state=RotationState.DRAINING.value,
                hold_since=now,
                tx_hash=None,
                note="",
                requested_by=requested_by[:256],
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            s.flush()
            audit.stage(s, "rotation.request", "rotation", row.id, now, after=_summary(row))
            return rotation_record(row)

        return self._write_retrying(work)

    def rotation(self, rotation_id: str) -> RotationRecord:
        with self._read() as s:
            row = s.get(CommitteeRotation, rotation_id)
            if row is None:
                raise NotFound(f"rotation {rotation_id!r} not found", rotation=rotation_id)
            return rotation_record(row)

    def rotations(self, *, open_only: bool = False, limit: int = 50) -> list[RotationRecord]:
        """Newest first; only ``draining``/``submitted`` ones with ``open_only``."""
        query = select(CommitteeRotation).order_by(CommitteeRotation.created_at.desc())
        if open_only:
            query = query.where(CommitteeRotation.state.in_(_OPEN))
        with self._read() as s:
            rows = s.scalars(query.limit(max(1, min(limit, MAX_ROTATIONS))))
            return [rotation_record(r) for r in rows]

    def set_rotation_state(
        self,
        rotation_id: str,
        expected: RotationState,
        new: RotationState,
        now: float,
        *,
        tx_hash: bytes | None = None,
        note: str = "",
    ) -> RotationRecord:
        """Compare-and-set the state (``InvalidTransition`` when it moved or the move is not
        allowed); audited as ``rotation.<new state>``."""

        def work(s: Session) -> RotationRecord:
            row = s.get(CommitteeRotation, rotation_id, with_for_update=True)
            if row is None:
                raise NotFound(f"rotation {rotation_id!r} not found", rotation=rotation_id)
            if row.state != expected.value or new not in _MOVES.get(expected, set()):
                raise InvalidTransition(
                    f"rotation {rotation_id} is {row.state}, not {expected.value} -> {new.value}"
                )
            before = _summary(row)
            row.state = new.value
            row.updated_at = now
            if tx_hash is not None:
                row.tx_hash = tx_hash
            if note:
                row.note = note[:2_000]
            after = _summary(row) | (
                {"tx_hash": "0x" + row.tx_hash.hex()} if row.tx_hash is not None else {}
            )
            audit.stage(
                s, f"rotation.{new.value}", "rotation", row.id, now, before=before, after=after
            )
            return rotation_record(row)

        return self._write_retrying(work)

    def add_rotation_signature(
        self, rotation_id: str, notary: str, digest: bytes, signature: bytes, now: float
    ) -> bool:
        """Keep ``notary``'s signature (the caller checked it recovers to ``notary`` over the
        rotation's digest); False when that notary's signature is already kept."""

        def work(s: Session) -> bool:
            if s.get(CommitteeRotation, rotation_id) is None:
                raise NotFound(f"rotation {rotation_id!r} not found", rotation=rotation_id)
            known = s.scalar(
                select(RotationSignature.id).where(
                    RotationSignature.rotation_id == rotation_id,
                    func.lower(RotationSignature.notary) == notary.lower(),
                )
            )
            if known is not None:
                return False
            s.add(
                RotationSignature(
                    rotation_id=rotation_id,
                    notary=notary.lower(),
                    digest=bytes(digest),
                    signature=bytes(signature),
                    at=now,
                )
            )
            return True

        return self._write_retrying(work)

    def rotation_signatures(self, rotation_id: str) -> list[SignatureRecord]:
        with self._read() as s:
            rows = s.scalars(
                select(RotationSignature)
                .where(RotationSignature.rotation_id == rotation_id)
                .order_by(RotationSignature.id)
            )
            return [
                SignatureRecord(rotation_id, r.notary, r.digest, r.signature, r.at, "rotation")
                for r in rows
            ]

    def rotation_in_flight(self, chain_id: ChainId) -> tuple[int, int]:
        """``(transfers, batches)`` certified for ``chain_id`` and not used there yet:
        transfers attested or submitted to it as destination, refunds journaled on it and
        not done, batches not done that it acts on."""
        chain = str(chain_id)
        with self._read() as s:
            deliveries = s.scalar(
                select(func.count())
                .select_from(Transfer)
                .where(
                    Transfer.dest_chain == chain,
                    Transfer.state.in_(
                        [TransferState.ATTESTED.value, TransferState.DEST_SUBMITTED.value]
                    ),
                )
            )
            refunds = s.scalar(
                select(func.count())
                .select_from(Action)
                .where(
                    Action.subject == "transfer",
                    Action.step == Step.REFUND.value,
                    Action.chain_id == chain,
                    Action.status.in_([ActionStatus.RECORDED.value, ActionStatus.SENT.value]),
                )
            )
            batches = s.scalar(
                select(func.count())
                .select_from(Batch)
                .join(Route, Route.route_id == Batch.route_id)
                .where(
                    Batch.state != BatchState.DONE.value,
                    ((Batch.kind == int(BatchKind.DELIVERY)) & (Route.destination == chain))
                    | ((Batch.kind != int(BatchKind.DELIVERY)) & (Route.source == chain)),
                )
            )
        return int(deliveries or 0) + int(refunds or 0), int(batches or 0)


__all__ = ["RotationStoreMixin", "rotation_record"]
