"""Plaintext relayer keys work only when opted in (issue #20): a ``signer_key`` (EVM) or
``relayer_key`` (Pujiang) in the chains file or the environment is refused at start without
``insecure_plaintext_key = true`` (``PJGW_<FAMILY>_INSECURE_PLAINTEXT_KEY``), with an error
naming the setting and the way out, never the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.chains_file import build_adapter, load_chains_file
from core.errors import ConfigError

EVM_KEY = "0x" + "5a" * 32
SEED = "6b" * 32
EVM = """[chains.anvil-1]
family = "evm"
rpc_url = "http://127.0.0.1:1"
evm_chain_id = 31337
"""
PUJIANG = """[chains.pj-1]
family = "pujiang"
url = "http://127.0.0.1:1"
"""


def _build(path: Path, text: str) -> object:
    path.write_text(text)
    parsed = load_chains_file(path)
    (record,) = parsed.chains.values()
    return build_adapter(record)


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        (EVM + f'signer_key = "{EVM_KEY}"\n', "signer_key"),
        (PUJIANG + f'relayer_key = "{SEED}"\n', "relayer_key"),
        (EVM + f'signer_key = "{EVM_KEY}"\ninsecure_plaintext_key = false\n', "signer_key"),
    ],
)
def test_a_plaintext_key_in_the_chains_file_is_refused_without_the_opt_in(
    tmp_path: Path, text: str, setting: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        _build(tmp_path / "chains.toml", text)
    message = str(refused.value)
    assert f"{setting} is a plaintext key" in message
    assert "insecure_plaintext_key = true" in message
    assert EVM_KEY[2:] not in message
    assert SEED not in message


@pytest.mark.parametrize(
    ("text", "setting"),
    [
        (EVM + f'signer_key = "{EVM_KEY}"\ninsecure_plaintext_key = true\n', "signer_key"),
        (PUJIANG + f'relayer_key = "{SEED}"\ninsecure_plaintext_key = true\n', "relayer_key"),
    ],
)
def test_the_opt_in_lets_a_plaintext_key_sign(tmp_path: Path, text: str, setting: str) -> None:
    adapter = _build(tmp_path / "chains.toml", text)
    assert getattr(adapter.settings, setting) is not None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "env", "opt_in"),
    [
        (EVM, {"PJGW_EVM_SIGNER_KEY": EVM_KEY}, "PJGW_EVM_INSECURE_PLAINTEXT_KEY"),
        (PUJIANG, {"PJGW_PUJIANG_RELAYER_KEY": SEED}, "PJGW_PUJIANG_INSECURE_PLAINTEXT_KEY"),
    ],
)
def test_a_plaintext_key_in_the_environment_needs_the_opt_in_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, env: dict[str, str], opt_in: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match="is a plaintext key") as refused:
        _build(tmp_path / "chains.toml", text)
    assert EVM_KEY[2:] not in str(refused.value)
    assert SEED not in str(refused.value)
    monkeypatch.setenv(opt_in, "true")
    _build(tmp_path / "chains.toml", text)
