"""Why a notary refuses to sign (``core.errors`` subclasses, stable codes).

Every refusal names its reason; none carries the key. A refusal is final for
that work item unless the chain data changes (``retryable`` is False); chain
and verification errors from below pass through unchanged.
"""

from __future__ import annotations

from core.errors import Conflict, NotFound, VerificationError


class NotaryRefused(VerificationError):
    """The notary could not verify the work item and did not sign."""

    code = "notary-refused"


class UnknownRoute(NotaryRefused):
    """The work item names a route or chain this notary is not configured for."""

    code = "notary-unknown-route"


class EventNotFound(NotaryRefused, NotFound):
    """No bridge event at the work item's height, position and transaction."""

    code = "notary-event-not-found"
    http_status = 404


class PacketMismatch(NotaryRefused):
    """The proven packet is not the one the work item names (chains, sequence, route)."""

    code = "notary-packet-mismatch"


class TimeoutNotReached(NotaryRefused):
    """Non-delivery asked before the destination verifiably passed the packet's timeout."""

    code = "notary-timeout-not-reached"


class PacketReceived(NotaryRefused):
    """Non-delivery asked for a packet the destination's verified state holds."""

    code = "notary-packet-received"


class PacketNotFailed(NotaryRefused):
    """Error acknowledgement asked for a packet whose failure on the destination the
    notary could not prove (no ``packet_failed`` event of this packet where the work
    item says)."""

    code = "notary-packet-not-failed"


class WouldEquivocate(NotaryRefused, Conflict):
    """The signed log forbids this statement: another digest of the same kind for
    this (route, sequence), a delivery after a non-delivery, or a non-delivery
    without a proven non-receipt."""

    code = "notary-would-equivocate"
    http_status = 409


class RotationNotExpected(NotaryRefused):
    """A committee rotation this notary's operator did not configure (``next_committee``
    of the chain in its chains file), or not the chain's next epoch."""

    code = "notary-rotation-not-expected"
