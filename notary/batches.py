"""Batch work for a notary (issue #15): what the hub asks it to sign, and what it answers.

A ``BatchWork`` is a statement the hub proposes (route, kind, committee epoch,
size, root) with the work item of every packet in leaf order. The notary
trusts none of it: it verifies every packet exactly as a single work item
(its own light client, the inclusion proof, the route; for ``NONDELIVERY`` each
packet's non-receipt state proof), per block rather than per packet
(``ChainVerifier.proven_events``/``final_blocks``: one header check, one proof
request and one thread hop, each packet's own proof still verified), recomputes
the root itself from the packets it proved (the acting chain's
``batch_leaf``/``batch_hash_name``, ``proofs.notary.batch``) and signs only a
root it computed (``Notary.attest_batch``). One forged packet refuses the WHOLE
batch, naming its index and the reason (``BatchMemberRefused``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.batches import MAX_BATCH_SIZE, BatchKind
from core.errors import InvalidInput, PjgwError
from notary.errors import NotaryRefused
from notary.service import WorkItem


class BatchMemberRefused(NotaryRefused):
    """One packet of the batch failed its verification: the whole batch is refused.
    ``index`` is its leaf index, ``reason`` the code of the packet's refusal."""

    code = "notary-batch-member-refused"


class BatchRootMismatch(NotaryRefused):
    """The batch's root (or epoch) is not the one the notary computed from the packets."""

    code = "notary-batch-root-mismatch"


@dataclass(frozen=True, slots=True)
class BatchWork:
    """A batch statement to verify and sign, with its packets' work items in leaf order."""

    batch_id: str
    route_id: str
    source_chain: str
    dest_chain: str
    kind: BatchKind
    epoch: int
    root: bytes
    members: tuple[WorkItem, ...]

    @property
    def size(self) -> int:
        return len(self.members)

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> BatchWork:
        """From the hub's JSON; ``InvalidInput`` on a malformed or oversized batch."""
        try:
            members = doc["members"]
            if not isinstance(members, list) or not 1 <= len(members) <= MAX_BATCH_SIZE:
                raise ValueError(f"a batch holds 1 .. {MAX_BATCH_SIZE} packets")
            if int(doc["size"]) != len(members):
                raise ValueError("size is not the number of members")
            root = str(doc["root"])
            if not root.startswith("0x") or len(root) != 66:
                raise ValueError("root is not 32 bytes of 0x hex")
            kind = BatchKind[str(doc["kind"]).upper()]
            work = cls(
                batch_id=str(doc["batch_id"]),
                route_id=str(doc["route_id"]),
                source_chain=str(doc["source_chain"]),
                dest_chain=str(doc["dest_chain"]),
                kind=kind,
                epoch=int(doc["epoch"]),
                root=bytes.fromhex(root[2:]),
                members=tuple(WorkItem.from_json({**m, "kind": _item_kind(kind)}) for m in members),
            )
        except PjgwError as err:
            raise InvalidInput(f"malformed batch work: {err}") from err
        except (KeyError, TypeError, ValueError) as err:
            raise InvalidInput(f"malformed batch work: {err}") from err
        return work


def _item_kind(kind: BatchKind) -> str:
    return "nondelivery" if kind is BatchKind.NONDELIVERY else "delivery"


@dataclass(frozen=True, slots=True)
class BatchAttestation:
    batch_id: str
    notary: str
    digest: bytes
    signature: bytes

    def as_json(self) -> dict[str, str]:
        return {
            "batch_id": self.batch_id,
            "notary": self.notary,
            "digest": "0x" + self.digest.hex(),
            "signature": "0x" + self.signature.hex(),
        }


__all__ = [
    "BatchAttestation",
    "BatchMemberRefused",
    "BatchRootMismatch",
    "BatchWork",
]
