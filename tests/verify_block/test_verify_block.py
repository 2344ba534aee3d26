"""``adapters.verify_block``: the rows ``pjgw verify-block`` prints, on the real vectors
with the trust files committed under ``docs/trust/``."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from adapters.verify_block import (
    CHAINMAKER_BODY_CHECKS,
    CHAINMAKER_CHECKS,
    FISCO_CHECKS,
    compute_chainmaker_trusts,
    verify_recorded_block,
)
from core.errors import InvalidInput
from proofs.chainmaker import compute_chain_trust
from tests.proofs.chainmaker.helpers import BLOCK_FILES, trust_doc

REPO = Path(__file__).resolve().parents[2]
CM_TRUST = REPO / "docs" / "trust" / "chainmaker-chain1.json"
FISCO_TRUST = REPO / "docs" / "trust" / "fisco-4sealers.json"


def load(path: Path) -> Any:
    return json.loads(path.read_text())


def test_committed_chain1_trust_is_the_one_derived_from_the_vectors(shared_vectors: Path) -> None:
    cm = shared_vectors / "chainmaker"
    docs = {h: load(cm / name) for h, name in BLOCK_FILES.items()}
    committed = compute_chainmaker_trusts(load(CM_TRUST))
    assert sorted(committed) == [0, 22]
    for height, trust in committed.items():
        assert trust == compute_chain_trust(trust_doc(cm, docs, height))


@pytest.mark.parametrize("name", sorted(BLOCK_FILES.values()))
def test_every_real_chainmaker_block_passes_every_check(shared_vectors: Path, name: str) -> None:
    report = verify_recorded_block(
        "chainmaker", load(shared_vectors / "chainmaker" / name), load(CM_TRUST)
    )
    names = [n for n, _ in (*CHAINMAKER_CHECKS, *CHAINMAKER_BODY_CHECKS)]
    assert [n for n, _ in report.rows] == names
    header_only = "header_qc" in name
    for check, verdict in report.rows:
        body = check in {n for n, _ in CHAINMAKER_BODY_CHECKS}
        assert verdict == ("skipped: the block has no body" if body and header_only else "ok")
    assert report.exit_code == 0


def test_a_broken_block_hash_fails_its_row_and_stops(shared_vectors: Path) -> None:
    block = load(shared_vectors / "chainmaker" / "chain1_h34_header_qc.json")
    digest = bytearray(base64.b64decode(block["block"]["header"]["block_hash"]))
    digest[0] ^= 1
    block["block"]["header"]["block_hash"] = base64.b64encode(bytes(digest)).decode()
    report = verify_recorded_block("chainmaker", block, load(CM_TRUST))
    verdicts = dict(report.rows)
    assert verdicts["chain id"] == "ok"
    assert verdicts["block hash"].startswith("FAIL: [chainmaker-block-hash]")
    assert verdicts["vote signatures"] == "not run"
    assert report.exit_code == 1


def test_a_block_under_a_configuration_not_in_the_trust_fails(shared_vectors: Path) -> None:
    trust = load(CM_TRUST)
    trust["configs"] = [{"config_height": 0}]
    report = verify_recorded_block(
        "chainmaker", load(shared_vectors / "chainmaker" / "chain1_h34_header_qc.json"), trust
    )
    assert dict(report.rows)["configuration in force (pre_conf_height)"].startswith(
        "FAIL: [chainmaker-config-unknown]"
    )
    assert report.exit_code == 1


def test_chainmaker_needs_a_trust_file(shared_vectors: Path) -> None:
    with pytest.raises(InvalidInput):
        verify_recorded_block(
            "chainmaker", load(shared_vectors / "chainmaker" / "chain1_h2_block.json"), None
        )


def test_fisco_header_with_the_trust_file_passes(shared_vectors: Path) -> None:
    header = load(shared_vectors / "fisco-bcos" / "header_4sealers.json")
    report = verify_recorded_block("fisco", header, load(FISCO_TRUST))
    assert [n for n, _ in report.rows] == [n for n, _ in FISCO_CHECKS]
    assert all(v == "ok" for _, v in report.rows)
    assert report.exit_code == 0


def test_fisco_json_rpc_answer_without_trust_skips_only_the_pin(shared_vectors: Path) -> None:
    block = load(shared_vectors / "fisco-bcos" / "block_1sealer.json")
    report = verify_recorded_block("fisco", {"jsonrpc": "2.0", "id": 1, "result": block}, None)
    assert dict(report.rows)["sealer list is the trusted one"] == "skipped: no trust file"
    assert report.exit_code == 0


def test_fisco_header_under_another_sealer_list_fails(shared_vectors: Path) -> None:
    header = load(shared_vectors / "fisco-bcos" / "header_4sealers.json")
    trust = load(FISCO_TRUST)
    trust["sealers"] = trust["sealers"][::-1]
    report = verify_recorded_block("fisco", header, trust)
    assert dict(report.rows)["sealer list is the trusted one"].startswith(
        "FAIL: [fisco-sealer-list]"
    )
    assert report.exit_code == 1


def test_unknown_family_is_refused() -> None:
    with pytest.raises(InvalidInput):
        verify_recorded_block("fabric", {}, None)


def test_main_prints_each_row_and_exits_by_the_verdict(
    shared_vectors: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from adapters.verify_block import main

    block = str(shared_vectors / "chainmaker" / "chain1_h34_header_qc.json")
    assert main(["chainmaker", block, "--trust", str(CM_TRUST)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "PASS"
    assert len(out) == len(CHAINMAKER_CHECKS) + len(CHAINMAKER_BODY_CHECKS) + 1
    fisco = str(shared_vectors / "fisco-bcos" / "header_4sealers.json")
    assert main(["fisco", fisco]) == 0
    assert "skipped: no trust file" in capsys.readouterr().out


def test_pjgw_verify_block_is_the_installed_command_and_fails_a_forged_trust(
    shared_vectors: Path, tmp_path: Path
) -> None:
    """The command as ``pjgw`` runs it: PASS and exit 0 on the real block; a trust file
    pinning other sealers fails the sealer check and exits 1."""
    from typer.testing import CliRunner

    from gateway.cli import app

    fisco = str(shared_vectors / "fisco-bcos" / "header_4sealers.json")
    ok = CliRunner().invoke(app, ["verify-block", "fisco", fisco, "--trust", str(FISCO_TRUST)])
    assert ok.exit_code == 0, ok.output
    assert ok.output.splitlines()[-1] == "PASS"
    forged = tmp_path / "trust.json"
    sealers = json.loads(FISCO_TRUST.read_text())["sealers"]
    forged.write_text(json.dumps({"sealers": [sealers[1], sealers[0], *sealers[2:]]}))
    bad = CliRunner().invoke(app, ["verify-block", "fisco", fisco, "--trust", str(forged)])
    assert bad.exit_code == 1, bad.output
    assert bad.output.splitlines()[-1] == "FAIL"
