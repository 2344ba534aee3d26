"""``pjgw signer``: a keystore key and an HSM key made from the command line, their
addresses printed, and no key or password ever on the output."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from adapters.signers import open_signer
from gateway.cli import app
from proofs.hashing import keccak256
from tests.fixtures.softhsm import PIN, SoftToken

PASSWORD = "cli-keystore-password"


def test_new_keystore_writes_a_key_that_opens_and_prints_only_its_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PJGW_KEYSTORE_PASSWORD", PASSWORD)
    path = tmp_path / "notary-7.json"
    result = CliRunner().invoke(app, ["signer", "new-keystore", str(path), "--scrypt-n", "16"])
    assert result.exit_code == 0, result.output
    signer = open_signer(f"keystore:{path}")
    address = "0x" + keccak256(signer.public_key[1:])[12:].hex()
    assert f"address {address}" in result.output
    assert f"signer reference: keystore:{path}" in result.output
    assert PASSWORD not in result.output
    again = CliRunner().invoke(app, ["signer", "new-keystore", str(path)])
    assert again.exit_code == 2
    assert "never overwritten" in again.output
    shown = CliRunner().invoke(app, ["signer", "address", f"keystore:{path}"])
    assert f"address {address}" in shown.output


def test_generate_hsm_makes_the_key_inside_the_token_and_address_reads_it(
    softhsm_token: SoftToken,
) -> None:
    uri = softhsm_token.uri("cli-notary")
    made = CliRunner().invoke(app, ["signer", "generate-hsm", uri])
    assert made.exit_code == 0, made.output
    shown = CliRunner().invoke(app, ["signer", "address", uri])
    assert shown.exit_code == 0, shown.output
    address_line = next(line for line in made.output.splitlines() if line.startswith("address"))
    assert address_line in shown.output
    assert PIN not in made.output + shown.output
    twice = CliRunner().invoke(app, ["signer", "generate-hsm", uri])
    assert twice.exit_code == 2
    assert "already holds" in twice.output


def test_a_plaintext_reference_needs_the_insecure_flag(tmp_path: Path) -> None:
    key = tmp_path / "k.hex"
    key.write_text("11" * 32)
    refused = CliRunner().invoke(app, ["signer", "address", f"file:{key}"])
    assert refused.exit_code == 2
    assert "development only" in refused.output
    allowed = CliRunner().invoke(
        app, ["signer", "address", f"file:{key}", "--insecure-plaintext-key"]
    )
    assert allowed.exit_code == 0
    assert "11" * 32 not in allowed.output
