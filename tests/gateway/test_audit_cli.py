"""``pjgw audit export|verify|checkpoint`` and ``pjgw evidence verify`` on a real SQLite store.

An export verifies; one entry removed, changed or two reordered in the file fails
``audit verify`` at that entry (exit 1); a checkpoint verifies for the hub's
address only and stops verifying once the log it signed is rewritten. Evidence
made of two real signatures verifies offline; each way of breaking it is refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from core.ids import ChainId
from core.records import ChainRecord, RouteProtocol, RouteRecord
from core.states import TransferState
from gateway.audit.evidence import EvidenceInvalid, verify_evidence
from gateway.cli import app
from gateway.store import SqlStore
from proofs.audit import signer_address
from proofs.notary.ecdsa import address_of_private_key, sign
from tests.store.helpers import new_transfer

AUDIT_KEY = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
SIGNER = "0x" + signer_address(bytes.fromhex(AUDIT_KEY)).hex()
RUN = CliRunner()


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A store with a route and two transfers taken through a few states: 9 entries."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    store = SqlStore(url)
    store.migrate()
    store.upsert_chain(ChainRecord(ChainId("chain-a"), "pujiang"))
    store.upsert_chain(ChainRecord(ChainId("chain-b"), "evm"))
    store.upsert_route(
        RouteRecord("a-to-b", ChainId("chain-a"), ChainId("chain-b"), RouteProtocol.NOTARY)
    )
    for _ in range(2):
        t, _ = store.create_transfer(new_transfer(), 1.0)
        store.transition(t.id, TransferState.REQUESTED, TransferState.SOURCE_COMMITTED, "seen", 2.0)
        store.transition(
            t.id, TransferState.SOURCE_COMMITTED, TransferState.SOURCE_FINAL, "final", 3.0
        )
    store.close()
    return url


def _export(url: str, tmp_path: Path) -> tuple[Path, Path]:
    out, cps = tmp_path / "audit.jsonl", tmp_path / "checkpoints.json"
    result = RUN.invoke(
        app, ["audit", "export", "--url", url, "--out", str(out), "--checkpoints", str(cps)]
    )
    assert result.exit_code == 0, result.output
    return out, cps


def _verify(*args: str) -> Any:
    return RUN.invoke(app, ["audit", "verify", *args])


def test_an_export_verifies_end_to_end(url: str, tmp_path: Path) -> None:
    out, _ = _export(url, tmp_path)
    lines = out.read_text().splitlines()
    assert len(lines) == 9  # 2 chains, 1 route, 2 x (create + 2 transitions)
    result = _verify(str(out))
    assert result.exit_code == 0, result.output
    assert "9 entries" in result.output


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


TAMPER: list[tuple[str, Any, int]] = [
    ("entry 4 removed", lambda ls: ls[:3] + ls[4:], 4),
    ("entries 6 and 7 reordered", lambda ls: [*ls[:5], ls[6], ls[5], *ls[7:]], 6),
    (
        "entry 8 changed",
        lambda ls: [*ls[:7], ls[7].replace('"reason":"seen"', '"reason":"forged"'), *ls[8:]],
        8,
    ),
    ("last entry removed", lambda ls: ls[:-1], None),  # a shorter log still chains: see below
]


@pytest.mark.parametrize(("mutate", "bad"), [t[1:] for t in TAMPER], ids=[t[0] for t in TAMPER])
def test_a_tampered_export_fails_at_the_first_bad_entry(
    url: str, tmp_path: Path, mutate: Any, bad: int | None
) -> None:
    out, _ = _export(url, tmp_path)
    original = _lines(out)
    tampered = mutate(original)
    assert tampered != original
    out.write_text("\n".join(tampered) + "\n")
    result = _verify(str(out))
    if bad is None:
        # Truncation is what checkpoints are for: the chain itself still verifies.
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1, result.output
    assert re.search(rf"BROKEN\s+at entry {bad}\b", result.output), result.output


def test_checkpoints_pin_the_head_and_the_signer(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PJGW_AUDIT_KEY", AUDIT_KEY)
    made = RUN.invoke(app, ["audit", "checkpoint", "--url", url])
    assert made.exit_code == 0, made.output
    assert AUDIT_KEY not in made.output
    out, cps = _export(url, tmp_path)
    assert json.loads(cps.read_text())[0]["signer"] == SIGNER
    ok = _verify(str(out), "--checkpoints", str(cps), "--signer", SIGNER)
    assert ok.exit_code == 0, ok.output
    other = "0x" + "ab" * 20
    wrong = _verify(str(out), "--checkpoints", str(cps), "--signer", other)
    assert wrong.exit_code == 1
    assert "not signed by" in wrong.output
    # The log truncated after the checkpoint: the checkpoint no longer matches it.
    lines = _lines(out)
    out.write_text("\n".join(lines[:-2]) + "\n")
    short = _verify(str(out), "--checkpoints", str(cps), "--signer", SIGNER)
    assert short.exit_code == 1
    assert "does not match" in short.output


# -- evidence ---------------------------------------------------------------------------

NOTARY_KEY = bytes.fromhex("aa" * 32)
OTHER_KEY = bytes.fromhex("bb" * 32)


def _evidence(**over: Any) -> dict[str, Any]:
    a, b = b"\x01" * 32, b"\x02" * 32
    item = {
        "notary": "0x" + address_of_private_key(NOTARY_KEY).hex(),
        "route_id": "a-to-b",
        "sequence": 7,
        "kind": "delivery",
        "at": 1.0,
        "statements": [
            {"digest": "0x" + a.hex(), "signature": "0x" + sign(NOTARY_KEY, a).hex()},
            {"digest": "0x" + b.hex(), "signature": "0x" + sign(NOTARY_KEY, b).hex()},
        ],
    }
    item.update(over)
    return item


def test_real_evidence_verifies_offline_through_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "evidence.json"
    path.write_text(json.dumps([_evidence()]))
    result = RUN.invoke(app, ["evidence", "verify", str(path)])
    assert result.exit_code == 0, result.output
    assert "0x" + address_of_private_key(NOTARY_KEY).hex() in result.output


def _same_digest() -> dict[str, Any]:
    item = _evidence()
    item["statements"][1] = item["statements"][0]
    return item


def _signed_by_other() -> dict[str, Any]:
    item = _evidence()
    digest = bytes.fromhex(item["statements"][1]["digest"][2:])
    item["statements"][1]["signature"] = "0x" + sign(OTHER_KEY, digest).hex()
    return item


def _one_statement() -> dict[str, Any]:
    item = _evidence()
    item["statements"] = item["statements"][:1]
    return item


MALLEATE = [
    ("same digest twice", _same_digest),
    ("second signed by another key", _signed_by_other),
    ("other notary named", lambda: _evidence(notary="0x" + "cd" * 20)),
    ("one statement", _one_statement),
    ("notary not an address", lambda: _evidence(notary="nobody")),
]


@pytest.mark.parametrize("make", [m[1] for m in MALLEATE], ids=[m[0] for m in MALLEATE])
def test_evidence_that_proves_nothing_is_refused_naming_the_item(make: Any) -> None:
    with pytest.raises(EvidenceInvalid) as caught:
        verify_evidence([_evidence(), make()])
    assert caught.value.details["index"] == 1
