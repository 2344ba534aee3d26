"""``pjgw verify-block FAMILY BLOCK.json [--trust FILE]``: check a block the chain's tools exported.

Registered on ``pjgw`` through the ``pujiang_gateway.cli`` entry points (it names
chain families, so it lives with them in ``adapters/``, not in the gateway).

Reads a block as the chain's own tools export it and checks it against the trust
roots given, check by check, so the command can print each check with its verdict
and exit 0 only when none failed:

* ``chainmaker``: a ``BlockInfo`` JSON object (the SDK's / explorer's export, as
  ``../shared/vectors/chainmaker/*.json``; header-only objects give the header checks,
  the body checks are then ``skipped``). The trust file is required: one
  configuration (``proofs.chainmaker.identity.compute_chain_trust``'s format) or
  ``{"configs": [...]}`` with one per ``pre_conf_height``.
* ``fisco``: the ``getBlockByNumber`` / ``getBlockHeaderByHash`` answer (the bare
  result object or the whole JSON-RPC response). The trust file
  ``{"sealers": [hex, ...]}`` pins the sealer list; without it that check is
  ``skipped`` and the header is checked against its own list only.

Verdicts: ``ok``, ``FAIL: [code] message``, ``skipped: why`` (not a failure) and
``not run`` (after a failure). No I/O here: the CLI reads the files and prints.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import typer

from core.errors import InvalidInput, VerificationError
from proofs.chainmaker import errors as cm_errors
from proofs.chainmaker.encoding import decode_block_info
from proofs.chainmaker.identity import ChainTrust, compute_chain_trust
from proofs.chainmaker.verifier import verify_block, verify_block_body
from proofs.fisco import errors as fisco_errors
from proofs.fisco.header import decode_header, verify_header

FAMILIES: Final = ("chainmaker", "fisco")

Check = tuple[str, tuple[type[VerificationError], ...]]

CHAINMAKER_CHECKS: Final[tuple[Check, ...]] = (
    ("decode BlockInfo", (cm_errors.MalformedBlock,)),
    ("chain id", (cm_errors.ChainIdMismatch,)),
    ("configuration in force (pre_conf_height)", (cm_errors.UnknownConfig,)),
    ("block hash", (cm_errors.BlockHashMismatch,)),
    (
        "TBFT quorum certificate: PRECOMMIT, maj23, votes bound to node ids, > 2/3",
        (
            cm_errors.Maj23Mismatch,
            cm_errors.VoteMismatch,
            cm_errors.DuplicateVote,
            cm_errors.UnknownVoter,
            cm_errors.VoterBindingMismatch,
            cm_errors.InsufficientVotes,
        ),
    ),
    ("proposer is a validator", (cm_errors.UnknownProposer,)),
    (
        "identities: org CA or pinned, validity, consensus role, one key per node",
        (cm_errors.UntrustedIdentity, cm_errors.DuplicateSigner),
    ),
    ("proposer signature", (cm_errors.BadProposerSignature,)),
    ("vote signatures", (cm_errors.BadVoteSignature,)),
)
CHAINMAKER_BODY_CHECKS: Final[tuple[Check, ...]] = (
    (
        "tx_count and tx_root (v2.3 transaction hash)",
        (cm_errors.TxCountMismatch, cm_errors.TxRootMismatch),
    ),
    ("read-write sets and rw_set_root", (cm_errors.RwSetHashMismatch, cm_errors.RwSetRootMismatch)),
    ("DAG hash", (cm_errors.DagHashMismatch,)),
)
FISCO_CHECKS: Final[tuple[Check, ...]] = (
    ("decode header", (fisco_errors.MalformedHeader,)),
    ("header hash (keccak of RLP of the 13 fields)", (fisco_errors.HeaderHashMismatch,)),
    ("sealer list is the trusted one", (fisco_errors.SealerListMismatch,)),
    (
        "sealer indexes in range, each once",
        (fisco_errors.SealerIndexOutOfRange, fisco_errors.DuplicateSealer),
    ),
    ("quorum: n - floor((n-1)/3) sealers", (fisco_errors.InsufficientSealers,)),
    ("sealer signatures over the hash", (fisco_errors.BadSealerSignature,)),
)


@dataclass(frozen=True, slots=True)
class Report:
    """The rows ``(check, verdict)`` in order, and whether the block passed."""

    rows: tuple[tuple[str, str], ...]

    @property
    def passed(self) -> bool:
        return all(v == "ok" or v.startswith("skipped") for _, v in self.rows)

    @property
    def exit_code(self) -> int:
        return 0 if self.passed else 1


def _chainmaker_locate(err: VerificationError) -> int | None:
    """The row of a decoding failure past the first step (quorum certificate, identities)."""
    if isinstance(err, cm_errors.MalformedBlock):
        check = err.details.get("check")
        if check in ("qc-encoding", "qc-missing"):
            return 4
        if check in ("certificate", "key", "member-type"):
            return 6
    return None


def _rows(
    checks: Sequence[Check],
    run: Callable[[], object],
    skipped: Mapping[str, str] | None = None,
    locate: Callable[[VerificationError], int | None] = lambda _err: None,
) -> list[tuple[str, str]]:
    """Run ``run``; every check before the one whose error class was raised is ``ok``."""
    skipped = skipped or {}
    try:
        run()
    except VerificationError as err:
        failed = locate(err)
        if failed is None:
            failed = next(
                (i for i, (_, kinds) in enumerate(checks) if isinstance(err, kinds)),
                len(checks) - 1,
            )
        rows = [(name, skipped.get(name, "ok")) for name, _ in checks[:failed]]
        rows.append((checks[failed][0], f"FAIL: {err}"))
        rows += [(name, "not run") for name, _ in checks[failed + 1 :]]
        return rows
    return [(name, skipped.get(name, "ok")) for name, _ in checks]


def compute_chainmaker_trusts(doc: Mapping[str, Any]) -> dict[int, ChainTrust]:
    """``config_height -> trust`` from a trust file (one configuration or ``configs``)."""
    if "configs" in doc:
        base = {k: v for k, v in doc.items() if k != "configs"}
        trusts = [compute_chain_trust({**base, **c}) for c in doc["configs"]]
    else:
        trusts = [compute_chain_trust(doc)]
    return {t.config_height: t for t in trusts}


def verify_chainmaker_block(block: Mapping[str, Any], trust: Mapping[str, Any]) -> Report:
    """Rows for a ChainMaker ``BlockInfo`` JSON object under the trust file's configurations."""
    trusts = compute_chainmaker_trusts(trust)
    holder: dict[str, Any] = {}

    def header() -> None:
        info = decode_block_info(block)
        holder["info"] = info
        height = info.block.header.pre_conf_height
        chosen = trusts.get(height) or next(iter(trusts.values()))
        holder["trust"] = chosen
        verify_block(info, chosen)

    rows = _rows(CHAINMAKER_CHECKS, header, locate=_chainmaker_locate)
    info = holder.get("info")
    if info is None or any(not v.startswith(("ok", "skipped")) for _, v in rows):
        rows += [(name, "not run") for name, _ in CHAINMAKER_BODY_CHECKS]
    elif not info.block.txs and info.block.header.tx_count:
        rows += [(name, "skipped: the block has no body") for name, _ in CHAINMAKER_BODY_CHECKS]
    else:
        rows += _rows(CHAINMAKER_BODY_CHECKS, lambda: verify_block_body(info, holder["trust"]))
    return Report(tuple(rows))


def verify_fisco_block(block: Mapping[str, Any], trust: Mapping[str, Any] | None) -> Report:
    """Rows for a FISCO BCOS 2.x block or header answer, against pinned sealers if given."""
    result = block.get("result", block) if isinstance(block, Mapping) else block
    sealers: list[bytes] | None = None
    if trust is not None:
        try:
            sealers = [bytes.fromhex(s.removeprefix("0x")) for s in trust["sealers"]]
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise InvalidInput('a FISCO trust file is {"sealers": [hex, ...]}') from err
    skipped = {} if sealers is not None else {FISCO_CHECKS[2][0]: "skipped: no trust file"}
    return Report(
        tuple(_rows(FISCO_CHECKS, lambda: verify_header(decode_header(result), sealers), skipped))
    )


def verify_recorded_block(
    family: str, block: Mapping[str, Any], trust: Mapping[str, Any] | None
) -> Report:
    """The command's entry: ``family`` is ``chainmaker`` or ``fisco``; parsed JSON in."""
    if family == "chainmaker":
        if trust is None:
            raise InvalidInput("chainmaker blocks need --trust (validators, org CAs or pins)")
        return verify_chainmaker_block(block, trust)
    if family == "fisco":
        return verify_fisco_block(block, trust)
    raise InvalidInput(f"unknown family {family!r} (known: {', '.join(FAMILIES)})")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m adapters.verify_block FAMILY BLOCK.json [--trust FILE]`` (as ``pjgw``)."""
    parser = argparse.ArgumentParser(prog="pjgw verify-block", description=__doc__.splitlines()[0])
    parser.add_argument("family", choices=FAMILIES)
    parser.add_argument("block", type=Path)
    parser.add_argument("--trust", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        block = json.loads(args.block.read_text())
        trust = json.loads(args.trust.read_text()) if args.trust else None
        report = verify_recorded_block(args.family, block, trust)
    except (OSError, ValueError, InvalidInput) as err:
        print(f"error: {err}")
        return 2
    width = max(len(name) for name, _ in report.rows)
    for name, verdict in report.rows:
        print(f"{name.ljust(width)}  {verdict}")
    print("PASS" if report.passed else "FAIL")
    return report.exit_code


def register(app: typer.Typer) -> None:
    """``pjgw verify-block`` (entry point ``pujiang_gateway.cli``)."""

    @app.command(
        "verify-block",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
        add_help_option=False,
    )
    def verify_block_command(ctx: typer.Context) -> None:
        """Verify a recorded block (ChainMaker BlockInfo, FISCO BCOS header) against trust
        roots: each check with its verdict; exit 0 only when every check passes."""
        raise typer.Exit(main(list(ctx.args)))


if __name__ == "__main__":
    raise SystemExit(main())
