"""proofs.pujiang.light_client on the generated vectors of tests/vectors/pujiang.

Every vector runs, valid and invalid; an invalid one must fail with exactly
its error code *and* its ``details["check"]``. The generator must reproduce
the committed files byte for byte.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from core.errors import PjgwError
from proofs.pujiang import codec
from proofs.pujiang.light_client import (
    ClientState,
    ConsensusState,
    check_misbehaviour,
    create_checkpoint,
    process_update,
    verify_bisection,
    verify_event,
    verify_header,
    verify_state_membership,
    verify_state_non_membership,
)

REPO = Path(__file__).resolve().parents[3]
VECTOR_DIR = REPO / "tests" / "vectors" / "pujiang"
FILES = ("chain.json", "chain_sm3.json", "headers.json", "misbehaviour.json", "proofs.json")
BACKEND = "fast"


def _load(name: str) -> Any:
    return json.loads((VECTOR_DIR / name).read_text())


def _check_files() -> None:
    found = sorted(p.name for p in VECTOR_DIR.glob("*.json"))
    if found != sorted(FILES):
        raise AssertionError(f"tests/vectors/pujiang holds {found}, expected {sorted(FILES)}")


_check_files()


def b(text: str) -> bytes:
    assert text.startswith("0x")
    return bytes.fromhex(text[2:])


@dataclass(frozen=True)
class Chain:
    client: ClientState
    blocks: dict[int, tuple[bytes, bytes, bytes]]
    states: dict[int, ConsensusState]
    data: dict[str, Any]


@cache
def chain(name: str = "chain.json") -> Chain:
    """The client, its checkpoint, and every block verified adjacently from it."""
    data = _load(name)
    client = ClientState(
        chain_id=data["chain_id"],
        hash_profile=data["hash_profile"],
        **data["client"],
    )
    blocks = {
        blk["height"]: (b(blk["header"]), b(blk["commit"]), b(blk["validators"]))
        for blk in data["blocks"]
    }
    cp = data["checkpoint"]
    header, _, validators = blocks[cp["height"]]
    states = {
        cp["height"]: create_checkpoint(
            client,
            header,
            validators,
            trusted_height=cp["height"],
            trusted_hash=b(cp["hash"]),
            now_ms=cp["now_ms"],
            backend=BACKEND,
        )
    }
    for height in sorted(blocks)[1:]:
        signed = blocks[height]
        now = codec.decode_header(signed[0]).time_ms + 1
        states[height] = verify_header(client, states[height - 1], *signed, now, backend=BACKEND)
    return Chain(client, blocks, states, data)


def assert_fails(expect: dict[str, str], call: Callable[[], object]) -> None:
    with pytest.raises(PjgwError) as info:
        call()
    err = info.value
    assert (err.code, err.details.get("check")) == (expect["error"], expect["check"]), err


def _cases(name: str) -> list[Any]:
    return [pytest.param(case, id=case["name"]) for case in _load(name)["cases"]]


def _updates() -> list[Any]:
    return [
        pytest.param(name, u, id=f"{name}:{u['trusted_height']}->{u['height']}")
        for name in ("chain.json", "chain_sm3.json")
        for u in _load(name)["updates"]
    ]


# --- the generator --------------------------------------------------------------------------


def test_generator_reproduces_committed_vectors_byte_for_byte() -> None:
    spec = importlib.util.spec_from_file_location("pujiang_generate", VECTOR_DIR / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it executes
    try:
        spec.loader.exec_module(module)
        built = module.build()
    finally:
        del sys.modules[spec.name]
    assert sorted(built) == sorted(FILES)
    for name, content in built.items():
        assert (VECTOR_DIR / name).read_text() == content, f"{name} differs: rerun generate.py"


def test_vectors_stay_small() -> None:
    total = sum((VECTOR_DIR / name).stat().st_size for name in FILES)
    assert total < 300_000


# --- valid chains ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["chain.json", "chain_sm3.json"])
def test_chain_verifies_adjacently_from_its_checkpoint(name: str) -> None:
    c = chain(name)
    for blk in c.data["blocks"]:
        state = c.states[blk["height"]]
        assert state.header_hash == b(blk["hash"])


@pytest.mark.parametrize(("name", "update"), _updates())
def test_valid_update_gives_expected_consensus_state(name: str, update: dict[str, Any]) -> None:
    c = chain(name)
    state = verify_header(
        c.client,
        c.states[update["trusted_height"]],
        *c.blocks[update["height"]],
        update["now_ms"],
        backend=BACKEND,
    )
    want = update["expect"]["ok"]
    got = {
        "height": state.height,
        "hash": "0x" + state.header_hash.hex(),
        "time_ms": state.time_ms,
        "events_root": "0x" + state.events_root.hex(),
        "event_count": state.event_count,
        "state_root": "0x" + state.state_root.hex(),
        "state_size": state.state_size,
        "validators_hash": "0x" + state.validators.hash.hex(),
        "next_validators_hash": "0x" + state.next_validators_hash.hex(),
    }
    assert got == want


@pytest.mark.parametrize("name", ["chain.json", "chain_sm3.json"])
def test_bisection_fetches_and_verifies_the_expected_heights(name: str) -> None:
    c = chain(name)
    spec = c.data["bisection"]
    fetched: list[int] = []

    def fetch(height: int) -> tuple[bytes, bytes, bytes]:
        fetched.append(height)
        return c.blocks[height]

    states = verify_bisection(
        c.client,
        c.states[spec["trusted_height"]],
        spec["target_height"],
        fetch,
        spec["now_ms"],
        backend=BACKEND,
    )
    assert [s.height for s in states] == spec["expect"]["ok"]["heights"]
    assert fetched == spec["expect"]["ok"]["fetched"]
    assert states[-1] == c.states[spec["target_height"]]


# --- invalid headers and checkpoints ---------------------------------------------------------


@pytest.mark.parametrize("case", _cases("headers.json"))
def test_header_vector(case: dict[str, Any]) -> None:
    c = chain()
    if case["call"] == "checkpoint":

        def call() -> object:
            return create_checkpoint(
                c.client,
                b(case["header"]),
                b(case["validators"]),
                trusted_height=case["trusted_height"],
                trusted_hash=b(case["trusted_hash"]),
                now_ms=case["now_ms"],
                backend=BACKEND,
            )

    else:

        def call() -> object:
            return verify_header(
                c.client,
                c.states[case["trusted_height"]],
                b(case["header"]),
                b(case["commit"]),
                b(case["validators"]),
                case["now_ms"],
                backend=BACKEND,
            )

    assert "error" in case["expect"]
    assert_fails(case["expect"], call)


# --- proofs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _cases("proofs.json"))
def test_proof_vector(case: dict[str, Any]) -> None:
    c = chain()
    state = c.states[case["height"]]
    proof = b(case["proof"])
    calls: dict[str, Callable[[], object]] = {
        "event": lambda: verify_event(c.client, state, proof),
        "state": lambda: verify_state_membership(
            c.client, state, proof, value=b(case["value"]) if "value" in case else None
        ),
        "state_absent": lambda: verify_state_non_membership(c.client, state, proof),
    }
    call = calls[case["call"]]
    expect = case["expect"]
    if "error" in expect:
        assert_fails(expect, call)
        return
    result = call()
    if case["call"] == "event":
        assert codec.encode(result) == b(expect["ok"]["event"])  # type: ignore[arg-type]
    elif case["call"] == "state":
        assert result == b(expect["ok"]["value"])
    else:
        assert result is None


# --- misbehaviour ------------------------------------------------------------------------------


def _signed(item: dict[str, str]) -> tuple[bytes, bytes, bytes]:
    return b(item["header"]), b(item["commit"]), b(item["validators"])


@pytest.mark.parametrize("case", _cases("misbehaviour.json"))
def test_misbehaviour_vector(case: dict[str, Any]) -> None:
    c = chain()
    trusted = c.states[case["trusted_height"]]
    expect = case["expect"]
    if case["call"] == "process_update":

        def call() -> Any:
            known = [c.states[h] for h in case["known_heights"]]
            return process_update(
                c.client, trusted, *_signed(case), case["now_ms"], known=known, backend=BACKEND
            )

    else:

        def call() -> Any:
            return check_misbehaviour(
                c.client,
                trusted,
                _signed(case["first"]),
                _signed(case["second"]),
                case["now_ms"],
                backend=BACKEND,
            )

    if "error" in expect:
        assert_fails(expect, call)
        return
    result = call()
    client = result if isinstance(result, ClientState) else result.client_state
    if "frozen" in expect:
        assert client.frozen
        assert client.evidence is not None
        assert (client.evidence.kind, client.evidence.height) == (
            expect["frozen"],
            expect["height"],
        )
        assert client.evidence.as_error().code == "misbehaviour"
        if not isinstance(result, ClientState):
            assert result.consensus_state is None
        return
    assert not client.frozen
    assert result.consensus_state is not None
    assert result.consensus_state.height == expect.get("height", expect.get("ok", {}).get("height"))
    assert result.duplicate == bool(expect.get("duplicate"))
