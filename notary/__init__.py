"""The notary signer service: one process per notary, its own key, its own light clients.

``Notary.attest`` re-derives a work item from the chains (verified header,
proven event, decoded packet, destination digest), refuses what it cannot
verify, signs at most one delivery and one non-delivery digest per (route, sequence)
(a non-delivery only with a proven non-receipt), and returns an
attestation. ``run_notary`` feeds it from a ``WorkSource``. See ``docs/notary.md``.
"""

from notary.errors import (
    EventNotFound,
    NotaryRefused,
    PacketMismatch,
    PacketNotFailed,
    PacketReceived,
    TimeoutNotReached,
    UnknownRoute,
    WouldEquivocate,
)
from notary.service import Attestation, FailedAt, Notary, Route, WorkItem

__all__ = [
    "Attestation",
    "EventNotFound",
    "FailedAt",
    "Notary",
    "NotaryRefused",
    "PacketMismatch",
    "PacketNotFailed",
    "PacketReceived",
    "Route",
    "TimeoutNotReached",
    "UnknownRoute",
    "WorkItem",
    "WouldEquivocate",
]
