"""``pjgw audit``, ``pjgw evidence`` and ``pjgw ops``: the supervisor's and operator's commands.

``audit export``/``checkpoint``/``anchor`` and ``evidence export`` work on the hub's
database like ``pjgw keys`` (``--url`` or the settings; entries they write name the
operator as ``cli:<user>``); ``audit verify`` and ``evidence verify`` need nothing
but the files (and, for anchors, a chains file to reach the chains). ``ops`` calls
the API with an admin or supervisor key (``PJGW_API_KEY``), so every change is
audited under the key's name. See ``docs/supervision.md``.
"""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

audit_app = typer.Typer(help="The hash-chained audit log: export, verify, checkpoints.")
evidence_app = typer.Typer(help="Notary equivocation evidence: export, verify offline.")
ops_app = typer.Typer(help="Operator and supervisor tools through the API (audited).")
console = Console(stderr=True)

Url = Annotated[str | None, typer.Option(help="Database URL (default: settings)")]


def _store(url: str | None) -> Any:
    from gateway.settings import Settings
    from gateway.store import SqlStore

    settings = Settings()
    if url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqlStore(url or settings.store_url())
    store.migrate()
    return store


def _operator() -> tuple[str, str]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"cli:{user}"[:128], "admin"


def _write(out: Path | None, lines: Any) -> None:
    stream = sys.stdout if out is None else out.open("w")
    try:
        for line in lines:
            stream.write(line + "\n")
    finally:
        if out is not None:
            stream.close()


def _checkpoint_json(c: Any) -> dict[str, Any]:
    from gateway.schemas.audit import CheckpointOut

    return CheckpointOut.of(c).model_dump()


@audit_app.command("export")
def export(
    url: Url = None,
    out: Annotated[Path | None, typer.Option(help="JSON-lines file (default stdout)")] = None,
    checkpoints: Annotated[
        Path | None, typer.Option(help="Also write the signed checkpoints (JSON) here")
    ] = None,
) -> None:
    """Every audit entry, oldest first, as JSON lines (what ``audit verify`` checks)."""
    store = _store(url)
    try:

        def lines() -> Any:
            after = 0
            while True:
                page, cursor = store.audit_entries(after_seq=after, limit=1000)
                for entry in page:
                    yield json.dumps(entry, separators=(",", ":"), ensure_ascii=False)
                if cursor is None:
                    return
                after = cursor

        _write(out, lines())
        if checkpoints is not None:
            found = [_checkpoint_json(c) for c in store.audit_checkpoints()]
            checkpoints.write_text(json.dumps(found, indent=2) + "\n")
        seq, head = store.audit_head()
    finally:
        store.close()
    console.print(f"[green]exported[/] {seq} entries, head {head.hex()}")


@audit_app.command("verify")
def verify(
    file: Annotated[Path, typer.Argument(help="A JSON-lines export")],
    checkpoints: Annotated[
        Path | None, typer.Option(help="Signed checkpoints (JSON) to check against the export")
    ] = None,
    signer: Annotated[
        str | None, typer.Option(help="The hub's checkpoint address (0x…), known out of band")
    ] = None,
    chains: Annotated[
        Path | None, typer.Option(help="Chains file: read each anchored hash back from its chain")
    ] = None,
) -> None:
    """Check the chain end to end, the checkpoints' signatures, and (with --chains) the
    anchors; exit 1 naming the first bad entry."""
    from gateway.audit.verify import verify_export
    from proofs.audit import AuditBroken

    cps = json.loads(checkpoints.read_text()) if checkpoints is not None else None
    reader = _anchor_reader(chains) if chains is not None else None
    with file.open("rb") as lines:
        try:
            report = asyncio.run(verify_export(lines, cps, signer=signer, read_anchor=reader))
        except AuditBroken as err:
            console.print(
                f"[red]BROKEN[/] at entry {err.details.get('seq')}: {escape(err.message)}"
            )
            raise typer.Exit(code=1) from None
    console.print(
        f"[green]ok[/] {report.entries} entries, head seq {report.head.seq} "
        f"hash {report.head.hash.hex()}; checkpoints verified: {report.checkpoints or 'none'}; "
        f"anchors found: {report.anchors or 'none'}"
    )


def _anchor_reader(chains: Path) -> Any:
    from adapters.chains_file import build_adapter, load_chains_file
    from core.errors import InvalidInput
    from core.ids import ChainId
    from core.seams import AnchorChain

    loaded = load_chains_file(chains)

    async def read(chain_id: str, digest: bytes, account: bytes) -> int | None:
        record = loaded.chains.get(ChainId(chain_id))
        if record is None:
            raise InvalidInput(f"chain {chain_id!r} is not in {chains}", field="chains")
        adapter = build_adapter(record)
        try:
            if not isinstance(adapter, AnchorChain):
                raise InvalidInput(f"chain {chain_id!r} cannot read anchors", field="chains")
            height = await adapter.anchored_height(digest, account)
            return None if height is None else int(height)
        finally:
            close = getattr(adapter, "aclose", None)
            if close is not None:
                await close()

    return read


@audit_app.command("checkpoint")
def checkpoint(url: Url = None) -> None:
    """Sign the current head with the hub's checkpoint key (PJGW_AUDIT_KEY or _FILE)."""
    from gateway.audit.checkpoints import checkpoint_key, make_checkpoint
    from gateway.audit.context import acting_as
    from gateway.settings import Settings

    secret = checkpoint_key(Settings())
    store = _store(url)
    try:
        with acting_as(*_operator()):
            made = make_checkpoint(store, secret, time.time())
    finally:
        store.close()
    print(json.dumps(_checkpoint_json(made), indent=2))


@audit_app.command("anchor")
def anchor(
    seq: Annotated[int, typer.Argument(help="The checkpoint's seq")],
    chain: Annotated[str, typer.Option(help="The chain to anchor on (in the chains file)")],
    chains: Annotated[Path, typer.Option(help="Chains file with the chain and its signing key")],
    url: Url = None,
) -> None:
    """Write checkpoint SEQ's hash on CHAIN and record where (audited)."""
    from adapters.chains_file import build_adapter, load_chains_file
    from core.errors import NotFound
    from core.ids import ChainId
    from gateway.audit.anchoring import anchor_checkpoint
    from gateway.audit.context import acting_as

    record = load_chains_file(chains).chains.get(ChainId(chain))
    if record is None:
        raise NotFound(f"chain {chain!r} is not in {chains}", chain_id=chain)
    store = _store(url)

    async def run() -> Any:
        adapter = build_adapter(record)
        try:
            found = next((c for c in store.audit_checkpoints() if c.seq == seq), None)
            if found is None:
                raise NotFound(f"no audit checkpoint at seq {seq}", seq=seq)
            with acting_as(*_operator()):
                return await anchor_checkpoint(store, {chain: adapter}, found, chain, time.time)
        finally:
            await adapter.aclose()  # type: ignore[attr-defined]

    try:
        made = asyncio.run(run())
    finally:
        store.close()
    print(json.dumps(_checkpoint_json(made), indent=2))


@evidence_app.command("export")
def evidence_export(
    url: Url = None,
    out: Annotated[Path | None, typer.Option(help="JSON file (default stdout)")] = None,
) -> None:
    """Every notary equivocation the hub caught, with both signed statements (JSON)."""
    from gateway.schemas.audit import EvidenceOut

    store = _store(url)
    try:
        items = [EvidenceOut.of(e).model_dump() for e in store.equivocations()]
    finally:
        store.close()
    _write(out, [json.dumps(items, indent=2)])
    console.print(f"[green]exported[/] {len(items)} equivocations")


@evidence_app.command("verify")
def evidence_verify(file: Annotated[Path, typer.Argument(help="An evidence export")]) -> None:
    """Check offline that each item proves its notary signed two digests for one packet."""
    from gateway.audit.evidence import EvidenceInvalid, verify_evidence

    try:
        notaries = verify_evidence(json.loads(file.read_text()))
    except (EvidenceInvalid, ValueError) as err:
        console.print(f"[red]INVALID[/] {escape(str(err))}")
        raise typer.Exit(code=1) from None
    console.print(f"[green]ok[/] {len(notaries)} equivocations proven: {', '.join(notaries)}")


# -- ops: through the API ------------------------------------------------------------

Api = Annotated[str, typer.Option(envvar="PJGW_API_URL", help="The hub's API")]


def _call(api: str, path: str, body: dict[str, Any]) -> None:
    import httpx

    key = os.environ.get("PJGW_API_KEY")
    if not key:
        console.print("[red]error[/] set PJGW_API_KEY to an admin or supervisor key")
        raise typer.Exit(code=2)
    response = httpx.post(api.rstrip("/") + path, json=body, headers={"X-API-Key": key})
    if response.status_code >= 400:
        console.print(f"[red]{response.status_code}[/] {escape(response.text)}")
        raise typer.Exit(code=1)
    print(json.dumps(response.json(), indent=2))


Reason = Annotated[str, typer.Option(help="Why (kept in the audit log)")]
DEFAULT_API = "http://127.0.0.1:8080"


@ops_app.command()
def pause(route: str, reason: Reason, api: Api = DEFAULT_API) -> None:
    """Pause a route (supervisor or admin): its worker leases nothing until resumed."""
    _call(api, f"/v1/routes/{route}/pause", {"reason": reason})


@ops_app.command()
def resume(route: str, reason: Reason, api: Api = DEFAULT_API) -> None:
    """Resume a paused route (supervisor or admin)."""
    _call(api, f"/v1/routes/{route}/resume", {"reason": reason})


@ops_app.command()
def retry(transfer: str, reason: Reason, api: Api = DEFAULT_API) -> None:
    """Retry a transfer now: clear its backoff (admin)."""
    _call(api, f"/v1/transfers/{transfer}/retry", {"reason": reason})


@ops_app.command()
def reject(transfer: str, reason: Reason, api: Api = DEFAULT_API) -> None:
    """Reject a stuck transfer (admin): refunded on its source when its packet left it."""
    _call(api, f"/v1/transfers/{transfer}/reject", {"reason": reason})


@ops_app.command()
def refund(transfer: str, reason: Reason, api: Api = DEFAULT_API) -> None:
    """Force the refund of a transfer whose timeout its destination passed (admin)."""
    _call(api, f"/v1/transfers/{transfer}/refund", {"reason": reason})


@ops_app.command()
def rewind(
    chain: str,
    height: Annotated[int, typer.Option(help="The last height to count as scanned")],
    reason: Reason,
    api: Api = DEFAULT_API,
) -> None:
    """Rewind a chain's scan cursor (admin; never below the chain's floor)."""
    _call(api, f"/v1/chains/{chain}/cursor/rewind", {"height": height, "reason": reason})


@ops_app.command()
def unfreeze(
    chain: str,
    height: Annotated[int, typer.Option(help="The new trust anchor's height")],
    hash: Annotated[str, typer.Option(help="Its header hash (0x…), taken outside the node")],
    reason: Reason,
    api: Api = DEFAULT_API,
) -> None:
    """Replace a frozen light client by one trusting a new anchor (admin)."""
    body = {"height": height, "hash": hash, "reason": reason}
    _call(api, f"/v1/chains/{chain}/client/unfreeze", body)


__all__ = ["audit_app", "evidence_app", "ops_app"]
