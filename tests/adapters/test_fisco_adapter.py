"""The FISCO BCOS 2.x adapter, light client and codec on the REAL vectors, with malleate rows.

Each vector is block 1 of its chain alone, so the kit (``test_fisco_conformance``)
cannot verify it from a block below. Here it is verified from the genesis state
the trust file names: the sealer list of ``docs/trust/fisco-4sealers.json``, the
genesis hash as block 1's ``parentHash`` names it, and block 1's own time (the
genesis header is not in the vectors). That state is assembled by the test, an
out-of-band trust as the operator's checkpoint would be; every row below breaks
one thing of the real header and must be refused with its exact reason.

The transaction proof (``txproof.json``) is of a block whose header is not in
the vectors: it is served by ``FiscoProofRecording`` and checked against a state
holding that block's ``transactionsRoot`` as WeCross's test gives it, assembled
by the test, not verified.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from adapters.fisco import FiscoAdapter, FiscoLightClient, FiscoSettings
from adapters.fisco.conformance import fisco_header_malleations
from adapters.fisco.light_client import (
    RECEIPT_PROOF_KIND,
    TX_PROOF_KIND,
    FiscoClientState,
    FiscoConsensusState,
    decode_update,
)
from adapters.fisco.rpc import FiscoRpcError
from adapters.registry import discover
from adapters.sdk import validate_settings
from adapters.testing.target import generic_proof_malleations
from core.errors import (
    BadEncoding,
    ClientFrozen,
    ConfigError,
    HeaderExpired,
    InvalidHeader,
    InvalidInput,
    NotFound,
    RootMismatch,
    VerificationError,
)
from core.ids import ChainId, Height
from core.types import ChainAction, ChainEvent, EventKind, HeaderUpdate, InclusionProof
from proofs.fisco import errors as fe
from proofs.fisco.header import compute_header_hash
from tests.adapters.fisco_recording import (
    ONE_SEALER,
    FiscoProofRecording,
    FiscoRecording,
    read_vector,
)
from tests.fixtures.vectors import vectors_dir

TRUST_FILE = Path(__file__).resolve().parents[2] / "docs" / "trust" / "fisco-4sealers.json"
CHAIN = "fisco-recorded-4"


def _settings(**extra: object) -> FiscoSettings:
    options = {"chain_id": CHAIN, "rpc_url": "http://recording.invalid:8545", **extra}
    return FiscoSettings(**options)  # type: ignore[arg-type]


def _header(name: str = "header_4sealers.json") -> tuple[HeaderUpdate, FiscoAdapter]:
    adapter = FiscoAdapter(_settings(), transport=FiscoRecording(vectors_dir(), name))

    async def run() -> HeaderUpdate:
        try:
            return await adapter.header(Height(1))
        finally:
            await adapter.aclose()

    return asyncio.run(run()), adapter


def _genesis(header: HeaderUpdate, sealers: tuple[bytes, ...] | None = None) -> FiscoConsensusState:
    """The state the trust file names at block 0 (see the module docstring)."""
    parsed = decode_update(header)
    trusted = _settings(trust_file=str(TRUST_FILE)).sealer_keys()
    assert trusted is not None
    return FiscoConsensusState(
        number=0,
        hash=parsed.parent_hash,
        timestamp_ms=parsed.timestamp,
        sealers=sealers if sealers is not None else trusted,
        transactions_root=bytes(32),
        receipts_root=bytes(32),
    )


CLIENT = FiscoClientState(CHAIN, 1, 14 * 24 * 3600, 30)


def _now(header: HeaderUpdate) -> int:
    return header.time + 1


def test_the_served_header_is_the_real_one_as_the_light_client_reads_it() -> None:
    header, _ = _header()
    real = read_vector(vectors_dir(), "header_4sealers.json")
    assert header.hash.hex() == real["hash"][2:]
    assert compute_header_hash(decode_update(header)) == header.hash  # hashed from the bytes
    assert [i for i, _ in decode_update(header).signatures] == [2, 0, 3]
    assert header.time == int(real["timestamp"], 16) // 1000


def test_the_real_header_verifies_from_the_trusted_genesis() -> None:
    header, _ = _header()
    state = FiscoLightClient().verify_header(CLIENT, _genesis(header), header, _now(header))
    assert (state.number, state.hash) == (1, header.hash)
    assert state.sealers == _genesis(header).sealers


EXPECTED = {
    "signatures: a signature's byte flipped": fe.BadSealerSignature,
    "signatures: v flipped": fe.BadSealerSignature,
    "signatures: one dropped": fe.InsufficientSealers,
    "signatures: one duplicated": fe.DuplicateSealer,
    "signatures: an index moved to a sealer that did not sign": fe.BadSealerSignature,
    "signatures: an index past the list": fe.SealerIndexOutOfRange,
    "signatures: none": BadEncoding,
    "hash: another block's hash claimed": fe.HeaderHashMismatch,
    "header: state root changed": fe.HeaderHashMismatch,
    "header: transactions root changed, re-hashed": fe.BadSealerSignature,
    "header: timestamp changed, re-hashed": fe.BadSealerSignature,
    "header: sealer field past the list, re-hashed": fe.SealerIndexOutOfRange,
    "header: a sealer key replaced, re-hashed": fe.BadSealerSignature,
    "header: height claimed another": InvalidHeader,
    "header: chain claimed another": InvalidHeader,
}


def test_every_malleation_of_the_real_header_is_refused_with_its_reason() -> None:
    header, _ = _header()
    lc, genesis = FiscoLightClient(), _genesis(header)
    cases = fisco_header_malleations(header)
    assert set(EXPECTED) <= set(cases)
    for name, bad in cases.items():
        with pytest.raises(VerificationError) as caught:
            lc.verify_header(CLIENT, genesis, bad, _now(header))
        if name in EXPECTED:
            assert type(caught.value) is EXPECTED[name], (name, caught.value)


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        (
            "a new sealer list the trusted sealers did not sign",
            "sealers",
            fe.UnendorsedSealerChange,
        ),
        ("the genesis hash is another", "parent", fe.ParentMismatch),
        ("the trusted block is block 1 itself", "number", fe.NonIncreasingNumber),
        ("the trusted state is past the trusting period", "expired", HeaderExpired),
        ("the header is ahead of now past the drift", "future", InvalidHeader),
        ("the client is frozen", "frozen", ClientFrozen),
    ],
)
def test_trust_rows_are_refused(name: str, change: str, expected: type[Exception]) -> None:
    header, _ = _header()
    one_sealer = decode_update(_header(ONE_SEALER)[0]).sealer_list
    genesis, client, now = _genesis(header), CLIENT, _now(header)
    if change == "sealers":
        genesis = _genesis(header, one_sealer)
    elif change == "parent":
        genesis = replace(genesis, hash=bytes(32))
    elif change == "number":
        genesis = replace(genesis, number=1)
    elif change == "expired":
        now += CLIENT.trusting_period + 1
    elif change == "future":
        now -= 3600
    elif change == "frozen":
        client = replace(CLIENT, frozen=True)
    with pytest.raises(expected):
        FiscoLightClient().verify_header(client, genesis, header, now)


def test_the_one_sealer_block_verifies_and_a_fork_needs_two_valid_headers() -> None:
    header, _ = _header(ONE_SEALER)
    parsed = decode_update(header)
    genesis = _genesis(header, parsed.sealer_list)
    client = replace(CLIENT, chain_id=CHAIN)
    assert FiscoLightClient().verify_header(client, genesis, header, _now(header)).number == 1
    lc = FiscoLightClient()
    assert not lc.check_misbehaviour(client, header, header)
    forged = fisco_header_malleations(header)["header: transactions root changed, re-hashed"]
    assert not lc.check_misbehaviour(client, header, forged)  # unsigned: the node's lie


def test_the_codec_round_trips_anchors_under_the_trusted_hash_only_and_refuses_garbage() -> None:
    header, _ = _header()
    adapter = FiscoAdapter(_settings(trust_file=str(TRUST_FILE)))
    codec = adapter.client_codec()
    client = codec.decode_client(codec.encode_client(codec.initial_client_state(1, 1)))
    state = codec.anchor(client, header, header.hash, _now(header))
    assert codec.decode_consensus(codec.encode_consensus(state), client) == state
    assert (codec.state_height(state), codec.state_hash(state)) == (1, header.hash)
    assert codec.state_time_ms(state) // 1000 == header.time
    assert codec.parent_hash(header) == _genesis(header).hash
    with pytest.raises(RootMismatch):
        codec.anchor(client, header, bytes(32), _now(header))
    other, _ = _header(ONE_SEALER)
    with pytest.raises(fe.SealerListMismatch):  # the trust file pins the 4 sealers
        codec.anchor(client, other, other.hash, _now(header))
    data = codec.encode_consensus(state)
    for garbage in (b"\xff", b"[]", data.replace(b'"number":1', b'"number":-1'), data[:-2]):
        with pytest.raises(BadEncoding):
            codec.decode_consensus(garbage, client)
    with pytest.raises(BadEncoding):
        codec.decode_client(b'{"chain_id": ""}')


def _proof_event(**changes: object) -> ChainEvent:
    doc = read_vector(vectors_dir(), "txproof.json")
    event = ChainEvent(
        chain_id=ChainId(CHAIN),
        height=Height(int(doc["blockNumber"], 16)),
        kind=EventKind.SEND_PACKET,
        tx_hash=bytes.fromhex(doc["txHash"][2:]),
        position=(int(doc["transactionIndex"], 16),),
    )
    return replace(event, **changes)  # type: ignore[arg-type]


def _prove(event: ChainEvent) -> InclusionProof:
    adapter = FiscoAdapter(_settings(), transport=FiscoProofRecording(vectors_dir()))

    async def run() -> InclusionProof:
        try:
            return await adapter.prove(event)
        finally:
            await adapter.aclose()

    return asyncio.run(run())


def _proof_state() -> FiscoConsensusState:
    doc = read_vector(vectors_dir(), "txproof.json")
    return FiscoConsensusState(
        number=int(doc["blockNumber"], 16),
        hash=bytes.fromhex(doc["blockHash"][2:]),
        timestamp_ms=0,
        sealers=(bytes(64),),
        transactions_root=bytes.fromhex(doc["transactionsRoot"][2:]),
        receipts_root=bytes(32),
    )


def test_the_real_transaction_proof_is_served_and_verifies() -> None:
    proof = _prove(_proof_event())
    assert (proof.kind, int.from_bytes(proof.key, "big"), len(proof.nodes)) == (TX_PROOF_KIND, 2, 2)
    FiscoLightClient().verify_membership(_proof_state(), proof)


def test_malleated_transaction_proofs_are_refused() -> None:
    proof, state, lc = _prove(_proof_event()), _proof_state(), FiscoLightClient()
    cases = dict(generic_proof_malleations(proof))
    cases["index: another transaction's"] = replace(proof, key=(1).to_bytes(8, "big"))
    cases["kind: claimed a receipt proof"] = replace(proof, kind=RECEIPT_PROOF_KIND)
    cases["height: another block's"] = replace(proof, height=Height(proof.height + 1))
    cases["steps: swapped"] = replace(proof, nodes=proof.nodes[::-1])
    accepted = []
    for name, bad in cases.items():
        try:
            lc.verify_membership(state, bad)
        except VerificationError:
            continue
        accepted.append(name)
    assert not accepted, f"tampered proofs were accepted: {accepted}"


def test_proof_lookups_that_do_not_match_are_refused() -> None:
    with pytest.raises(NotFound):
        _prove(_proof_event(tx_hash=bytes(32)))
    with pytest.raises(FiscoRpcError, match="another transaction"):
        _prove(_proof_event(position=(1,)))


def test_what_the_adapter_cannot_do_is_refused_clearly() -> None:
    adapter = FiscoAdapter(_settings())
    proof = _prove(_proof_event())
    with pytest.raises(InvalidInput):
        adapter.event_from_proof(_proof_event(), proof, bytes(32))
    with pytest.raises(ConfigError, match="no state proofs"):
        asyncio.run(adapter.prove_state(b"key", Height(1)))
    with pytest.raises(ConfigError, match="signs no FISCO"):
        asyncio.run(adapter.submit(ChainAction("raw_tx", {}, "k")))
    assert adapter.bridge() is None
    assert adapter.htlc() is None
    assert adapter.source_transactions() is None


def test_events_are_none_and_addresses_are_0x_40_hex() -> None:
    adapter = FiscoAdapter(_settings())
    assert asyncio.run(adapter.events(Height(1), Height(5))) == []
    address = "0x" + "Ab" * 20
    assert FiscoAdapter.validate_address(address) == address.lower()
    assert FiscoAdapter.address_bytes(address) == bytes.fromhex("ab" * 20)
    for bad in ("ab" * 20, "0x" + "ab" * 19, "0x" + "zz" * 20, "0x" + "ab" * 32):
        with pytest.raises(InvalidInput):
            FiscoAdapter.validate_address(bad, "receiver")


def test_the_registry_resolves_fisco_and_settings_hide_values() -> None:
    assert discover().load("fisco") is FiscoAdapter
    assert FiscoAdapter.seam_version == "2.0"
    secret = "0x" + "12" * 63
    with pytest.raises(ConfigError) as caught:
        validate_settings(
            FiscoSettings, {"chain_id": "c", "rpc_url": "x", "trusted_sealers": [secret]}
        )
    assert "trusted_sealers" in str(caught.value)
    assert secret not in str(caught.value)
    pinned = _settings(trust_file=str(TRUST_FILE)).sealer_keys()
    assert pinned is not None
    assert len(pinned) == 4
