"""Checking an exported audit log end to end: the chain, the signed checkpoints, the anchors.

What ``pjgw audit verify`` runs, kept apart from the command so tests call it. An
export is JSON lines (one entry per line, as ``GET /v1/audit?format=ndjson`` and
``pjgw audit export`` write them); checkpoints are a JSON array of the
``/v1/audit/checkpoints`` objects. In order: every line parses (bounded), the hash
chain verifies from the genesis link (``proofs.audit.validate_chain``: the first bad
entry is named), each checkpoint names an entry of the chain with that entry's hash
and is signed by the expected hub address, and each anchored checkpoint's hash is
found on its chain under its account (through ``AnchorChain``; optional).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from core.errors import InvalidInput
from proofs.audit import AuditBroken, ChainHead, is_checkpoint_signed_by, validate_chain
from proofs.notary.ecdsa import to_address

MAX_LINE_BYTES = 1 << 20
MAX_ENTRIES = 10_000_000

AnchorReader = Callable[[str, bytes, bytes], Awaitable[int | None]]
"""``(chain_id, digest, account) -> height | None``: where a digest was anchored."""


@dataclass
class Report:
    """What a verification established (raises on the first failure instead of reporting it)."""

    head: ChainHead
    entries: int
    checkpoints: list[int] = field(default_factory=list)
    anchors: list[tuple[int, str, int]] = field(default_factory=list)


def read_lines(lines: Iterable[bytes | str]) -> list[dict[str, Any]]:
    """JSON objects, one per non-empty line (``AuditBroken`` naming the line otherwise)."""
    out: list[dict[str, Any]] = []
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE_BYTES:
            raise AuditBroken(f"line {number} is longer than {MAX_LINE_BYTES} bytes", seq=number)
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as err:
            raise AuditBroken(f"line {number} is not JSON", seq=len(out) + 1) from err
        if not isinstance(item, dict):
            raise AuditBroken(f"line {number} is not a JSON object", seq=len(out) + 1)
        out.append(item)
        if len(out) > MAX_ENTRIES:
            raise InvalidInput(f"more than {MAX_ENTRIES} entries", field="file")
    return out


def check_checkpoints(
    entries: list[Mapping[str, Any]], checkpoints: Iterable[Mapping[str, Any]], signer: str
) -> list[int]:
    """Each checkpoint matches the chain at its ``seq`` and is signed by ``signer``."""
    expected = to_address(signer)
    hashes = {int(e["seq"]): str(e["hash"]).removeprefix("0x") for e in entries}
    checked = []
    for cp in checkpoints:
        seq = int(cp["seq"])
        head = str(cp["hash"]).removeprefix("0x")
        if hashes.get(seq) != head:
            raise AuditBroken(
                f"checkpoint {seq} does not match entry {seq} of the export "
                "(the log was rewritten after it was signed, or the export is short)",
                seq=seq,
                reason="checkpoint-mismatch",
            )
        signature = bytes.fromhex(str(cp["signature"]).removeprefix("0x"))
        if not is_checkpoint_signed_by(
            expected, seq, bytes.fromhex(head), int(cp["at_ms"]), signature
        ):
            raise AuditBroken(
                f"checkpoint {seq} is not signed by 0x{expected.hex()}",
                seq=seq,
                reason="checkpoint-signature",
            )
        checked.append(seq)
    return checked


async def check_anchors(
    checkpoints: Iterable[Mapping[str, Any]], read: AnchorReader
) -> list[tuple[int, str, int]]:
    """Each anchored checkpoint's hash is on its chain under its account; ``(seq, chain,
    height)`` of each."""
    found = []
    for cp in checkpoints:
        chain = cp.get("anchor_chain")
        if not chain:
            continue
        seq = int(cp["seq"])
        account = bytes.fromhex(str(cp["anchor_account"]).removeprefix("0x"))
        height = await read(str(chain), bytes.fromhex(str(cp["hash"]).removeprefix("0x")), account)
        if height is None:
            raise AuditBroken(
                f"checkpoint {seq}: its hash is not anchored on {chain}",
                seq=seq,
                reason="anchor-missing",
            )
        recorded = cp.get("anchor_height")
        if recorded is not None and int(recorded) != int(height):
            raise AuditBroken(
                f"checkpoint {seq}: anchored at {height} on {chain}, the hub recorded {recorded}",
                seq=seq,
                reason="anchor-height",
            )
        found.append((seq, str(chain), int(height)))
    return found


async def verify_export(
    lines: Iterable[bytes | str],
    checkpoints: list[Mapping[str, Any]] | None = None,
    *,
    signer: str | None = None,
    read_anchor: AnchorReader | None = None,
) -> Report:
    """The whole check (see the module); ``AuditBroken`` names the first failure."""
    entries = read_lines(lines)
    report = Report(validate_chain(entries), len(entries))
    if checkpoints:
        if signer is None:
            raise InvalidInput("checking checkpoints needs the hub's address", field="signer")
        report.checkpoints = check_checkpoints(entries, checkpoints, signer)
        if read_anchor is not None:
            report.anchors = await check_anchors(checkpoints, read_anchor)
    return report


__all__ = ["Report", "check_anchors", "check_checkpoints", "read_lines", "verify_export"]
