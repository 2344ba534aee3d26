"""A notary's part in a committee rotation: sign only the next committee its operator chose.

The hub publishes a pending rotation (``GET /v1/notary/rotations``): the chain
whose bridge rotates, the new epoch, threshold and members. A notary never signs
what the hub asks just because it asks: its operator writes the committee they
agreed to in the notary's own chains file, per chain::

    [chains.anvil-31337]
    next_committee = ["0x…", "0x…", "0x…"]   # the members the operators agreed on
    next_committee_threshold = 2
    next_committee_epoch = 2                 # the epoch it takes office at

``attest_rotation`` signs only when the rotation equals that entry (members
compared as a set, canonical order), names the epoch right after the one the
chain's bridge trusts NOW (read by the notary's own adapter), and its signed log
holds no other rotation of that chain to that epoch (``SignedLog.check_rotation``:
one rotation per chain and epoch, ever). The signing bytes are the chain's own
(``BridgeEndpoint.rotation_digest``), computed here, not taken from the hub.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.committee import CommitteeState, RotationStatement
from core.errors import ConfigError, InvalidInput
from notary.errors import RotationNotExpected

log = logging.getLogger("pjgw.notary")

NEXT_KEYS = ("next_committee", "next_committee_threshold", "next_committee_epoch")
"""The chains-file keys of a chain's expected next committee (notary-only keys)."""


def expected_rotation(chain_id: str, options: Mapping[str, Any]) -> RotationStatement | None:
    """The rotation this notary's operator configured for ``chain_id``; ``None`` without
    one; ``ConfigError`` when the entry is incomplete or malformed."""
    given = [k for k in NEXT_KEYS if k in options]
    if not given:
        return None
    if len(given) != len(NEXT_KEYS):
        missing = ", ".join(k for k in NEXT_KEYS if k not in options)
        raise ConfigError(f"chain {chain_id}: next_committee needs {missing} too")
    members = options["next_committee"]
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise ConfigError(f"chain {chain_id}: next_committee is a list of 0x addresses")
    try:
        return RotationStatement.make(
            chain_id,
            options["next_committee_epoch"],
            options["next_committee_threshold"],
            members,
        )
    except InvalidInput as err:
        raise ConfigError(f"chain {chain_id}: next_committee: {err.message}") from None


@dataclass(frozen=True, slots=True)
class RotationWork:
    """A pending rotation as the hub publishes it (every field re-checked by the notary)."""

    rotation_id: str
    chain_id: str
    epoch: int
    threshold: int
    members: tuple[str, ...]

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RotationWork:
        try:
            members = doc["members"]
            if not isinstance(members, list) or len(members) > 64:
                raise InvalidInput("members is a list of at most 64 addresses")
            return cls(
                str(doc["rotation_id"])[:64],
                str(doc["chain"])[:128],
                int(doc["epoch"]),
                int(doc["threshold"]),
                tuple(str(m)[:42] for m in members),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidInput(f"a rotation work item is malformed: {err}") from None

    def statement(self) -> RotationStatement:
        return RotationStatement.make(self.chain_id, self.epoch, self.threshold, self.members)


@dataclass(frozen=True, slots=True)
class RotationAttestation:
    """A notary's signature over a rotation's digest, for the hub."""

    rotation_id: str
    notary: str
    digest: bytes
    signature: bytes

    def as_json(self) -> dict[str, str]:
        """The body of ``POST /v1/notary/rotations/{rotation_id}/signatures``."""
        return {
            "notary": self.notary,
            "digest": "0x" + self.digest.hex(),
            "signature": "0x" + self.signature.hex(),
        }


def check_expected(
    statement: RotationStatement, expected: RotationStatement | None, live: CommitteeState
) -> None:
    """``RotationNotExpected`` unless ``statement`` is the configured one and the chain's
    next epoch."""
    chain = statement.chain_id
    if expected is None:
        raise RotationNotExpected(
            f"no next_committee is configured for {chain}: this notary signs no rotation of it",
            chain=str(chain),
        )
    if statement != expected:
        raise RotationNotExpected(
            f"the hub asks for epoch {statement.epoch} of {chain} with {len(statement.members)} "
            f"members and threshold {statement.threshold}; this notary's operator configured "
            f"epoch {expected.epoch} with {len(expected.members)} members and threshold "
            f"{expected.threshold}",
            chain=str(chain),
            differs=_difference(statement, expected),
        )
    if not statement.follows(live):
        raise RotationNotExpected(
            f"{chain} trusts the committee of epoch {live.epoch}; epoch {statement.epoch} "
            "is not the next one",
            chain=str(chain),
        )


def _difference(a: RotationStatement, b: RotationStatement) -> str:
    names: Sequence[str] = ("epoch", "threshold", "members")
    return ",".join(n for n in names if getattr(a, n) != getattr(b, n))


__all__ = [
    "NEXT_KEYS",
    "RotationAttestation",
    "RotationWork",
    "check_expected",
    "expected_rotation",
]
