"""Stored rows to the ``core.records`` values that cross the store seam.

Every value is rebuilt with its core type (``ChainId``, ``Height``,
``PacketId``, the enums), so a corrupt row fails loudly here instead of
deep inside the relayer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row

from core.ids import ChainId, Height, PacketId
from core.records import (
    EquivocationRecord,
    HoldRecord,
    RouteProtocol,
    RouteRecord,
    TransferKind,
    TransferRecord,
)
from core.states import TransferState
from gateway.store.models import Equivocation, Route, Transfer


def route_record(r: Route) -> RouteRecord:
    return RouteRecord(
        route_id=r.route_id,
        source=ChainId(r.source),
        destination=ChainId(r.destination),
        protocol=RouteProtocol(r.protocol),
        settings=dict(r.settings),
        enabled=r.enabled,
        paused_reason=r.paused_reason,
    )


def transfer_record(r: Transfer | Row[Any]) -> TransferRecord:
    """From a mapped ``Transfer`` or a plain row of the ``transfers`` table (the same names)."""
    packet = None
    if r.packet_source is not None and r.packet_destination is not None:
        packet = PacketId(
            ChainId(r.packet_source), ChainId(r.packet_destination), int(r.packet_sequence or 0)
        )
    return TransferRecord(
        id=r.id,
        route_id=r.route_id,
        kind=TransferKind(r.kind),
        sender=r.sender,
        receiver=r.receiver,
        denom=r.denom,
        amount=int(r.amount),
        payload=bytes(r.payload),
        timeout_height=int(r.timeout_height),
        timeout_time=int(r.timeout_time),
        state=TransferState(r.state),
        reason=r.reason,
        packet=packet,
        source_tx=None if r.source_tx is None else bytes(r.source_tx),
        source_height=None if r.source_height is None else Height(r.source_height),
        source_position=None if r.source_position is None else tuple(r.source_position),
        source_event=bytes(r.source_event),
        dest_tx=None if r.dest_tx is None else bytes(r.dest_tx),
        attempts=r.attempts,
        next_attempt_at=r.next_attempt_at,
        created_at=r.created_at,
        updated_at=r.updated_at,
        lease_owner=r.lease_owner,
        lease_until=r.lease_until,
        packet_data=None if r.packet_data is None else dict(r.packet_data),
        source_attributes=None if r.source_attributes is None else dict(r.source_attributes),
        created_by=r.created_by,
        admitted_at=r.admitted_at,
        hold=hold_record(r),
    )


def hold_record(r: Transfer | Row[Any]) -> HoldRecord | None:
    """The row's hold while it is ``held`` (``None`` otherwise)."""
    if r.state != TransferState.HELD.value or r.hold_origin is None:
        return None
    return HoldRecord(
        rule=r.hold_rule or "",
        reason=r.hold_reason or "",
        release_at=r.hold_until,
        origin=r.hold_origin,
        decision=r.hold_decision,
    )


def equivocation_record(r: Equivocation) -> EquivocationRecord:
    return EquivocationRecord(
        id=r.id,
        notary=r.notary,
        route_id=r.route_id,
        sequence=int(r.sequence),
        digest_a=bytes(r.digest_a),
        signature_a=bytes(r.signature_a),
        digest_b=bytes(r.digest_b),
        signature_b=bytes(r.signature_b),
        at=r.at,
        kind=r.kind,
    )
