"""The ChainMaker adapter on the real blocks of ``chain1``, beyond the kit's generic checks.

Through ``ChainMakerRecording`` (real v2.3.2 blocks 2, 3, 30, 34): the skip
30 -> 34 under configuration 22; transaction proofs of the real transactions of
blocks 2 and 30 against the verified headers, with malleate rows; each targeted
header malleation refused with its exact reason (adjacent and skipping); what the
adapter refuses (state proofs, writes, a body it was not served) and how it reads
receipts, events and addresses; the codec refusing damaged bytes.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from adapters.chainmaker import ChainMakerAdapter, ChainMakerSettings
from adapters.chainmaker.conformance import ChainMakerTarget, ChainMakerTargetOptions
from adapters.chainmaker.light_client import ChainMakerConsensus
from adapters.registry import discover
from core.errors import (
    BadEncoding,
    BadProof,
    ChainError,
    ChainUnavailable,
    ConfigError,
    InvalidHeader,
    InvalidInput,
    NotFound,
    RootMismatch,
    VerificationError,
)
from core.ids import ChainId, Height
from core.types import HeaderUpdate, InclusionProof
from proofs.chainmaker import errors as cm
from tests.adapters.chainmaker_recording import CHAIN_ID, ChainMakerRecording
from tests.adapters.test_chainmaker_conformance import TRUST_FILE
from tests.fixtures.vectors import vectors_dir

T = TypeVar("T")


def _settings(**extra: object) -> ChainMakerSettings:
    options: dict[str, object] = {
        "chain_id": CHAIN_ID,
        "rpc_url": "http://recording.invalid:12301",
        "trust_file": str(TRUST_FILE),
    }
    return ChainMakerSettings(**{**options, **extra})  # type: ignore[arg-type]


def _run(awaitable: Awaitable[T], adapter: ChainMakerAdapter) -> T:
    async def go() -> T:
        try:
            return await awaitable
        finally:
            await adapter.aclose()

    return asyncio.run(go())


class Chain:
    """The recorded chain, its adapter's light client and codec, and headers read once."""

    def __init__(self, **extra: object) -> None:
        self.recording = ChainMakerRecording(vectors_dir())
        self.settings = _settings(**extra)
        self.headers: dict[int, HeaderUpdate] = {
            h: self.call(lambda a, h=h: a.header(Height(h))) for h in self.recording.blocks
        }
        adapter = self.adapter()
        self.light, self.codec = adapter.light_client(), adapter.client_codec()
        self.client = self.codec.initial_client_state(self.settings.trusting_period, 10)

    def adapter(self) -> ChainMakerAdapter:
        return ChainMakerAdapter(self.settings, transport=self.recording)

    def call(self, use: Callable[[ChainMakerAdapter], Awaitable[T]]) -> T:
        adapter = self.adapter()
        return _run(use(adapter), adapter)

    def now(self, height: int) -> int:
        return self.recording.block_time(height) + 1

    def anchored(self, height: int) -> ChainMakerConsensus:
        header = self.headers[height]
        return self.codec.anchor(self.client, header, self.codec.header_hash(header), 0)

    def verify(self, base: int, header: HeaderUpdate, target: int) -> object:
        """``header`` from the block ``base`` trusted, at the time just after ``target``."""
        return self.light.verify_header(self.client, self.anchored(base), header, self.now(target))


@pytest.fixture(scope="module")
def chain() -> Chain:
    return Chain()


def test_the_family_is_registered_on_seam_2(chain: Chain) -> None:
    registry = discover()
    assert registry.load("chainmaker") is ChainMakerAdapter
    assert ChainMakerAdapter.seam_version == "2.0"


def test_block_34_verifies_skipping_from_block_30_under_configuration_22(chain: Chain) -> None:
    state = chain.verify(30, chain.headers[34], 34)
    assert isinstance(state, ChainMakerConsensus)
    assert state.trusted.height == 34
    assert state.trusted.trust.config_height == 22
    assert (
        base64.b64encode(state.trusted.block_hash).decode()
        == (chain.recording.header(34)["block_hash"])
    )


def test_the_header_hash_and_parent_are_computed_from_the_bytes(chain: Chain) -> None:
    h2, h3 = chain.headers[2], chain.headers[3]
    assert chain.codec.header_hash(h3) == h3.hash
    assert chain.codec.parent_hash(h3) == chain.codec.header_hash(h2)
    forged = replace(h3, hash=bytes(32))  # the node's word is never used
    assert chain.codec.header_hash(forged) == h3.hash


# --- targeted header malleations, each with its exact reason ------------------------------

SKIP_ROWS = {  # block 34 from the trusted block 30
    "header: tx_root changed": cm.BlockHashMismatch,
    "header: tx_root changed, block hash re-derived": cm.Maj23Mismatch,
    "header: timestamp changed": cm.BlockHashMismatch,
    "header: timestamp changed, block hash re-derived": cm.Maj23Mismatch,
    "header: pre_block_hash changed": cm.BlockHashMismatch,
    "header: pre_block_hash changed, block hash re-derived": cm.Maj23Mismatch,
    "header: proposer changed": cm.BlockHashMismatch,
    "header: proposer changed, block hash re-derived": cm.Maj23Mismatch,
    "header: chain id changed": InvalidHeader,  # the update's label is checked first
    "header: pre_conf_height changed": cm.UnknownConfig,
    "header: proposer signature flipped": cm.BadProposerSignature,
    "update: height relabelled": InvalidHeader,
    "certificate: a vote's signature flipped": cm.BadVoteSignature,
    "certificate: a vote removed": cm.InsufficientVotes,
    "certificate: a vote of another round": cm.VoteMismatch,
    "certificate: maj23 changed": cm.Maj23Mismatch,
    "evidence: missing": cm.MalformedBlock,
    "evidence: last byte flipped": cm.BadVoteSignature,  # the last vote's signature ends it
}


def _target(chain: Chain) -> ChainMakerTarget:
    return ChainMakerTarget(chain.settings, ChainMakerTargetOptions(offline=True))


@pytest.mark.parametrize(("row", "error"), SKIP_ROWS.items(), ids=list(SKIP_ROWS))
def test_a_malleated_skip_is_refused_with_its_reason(
    chain: Chain, row: str, error: type[VerificationError]
) -> None:
    bad = _target(chain).header_malleations(chain.headers[34])[row]
    with pytest.raises(error):
        chain.verify(30, bad, 34)


def test_an_adjacent_block_with_another_parent_is_refused_even_re_derived(chain: Chain) -> None:
    """2 -> 3: a block whose parent is not the trusted block fails the parent link first."""
    bad = _target(chain).header_malleations(chain.headers[3])[
        "header: pre_block_hash changed, block hash re-derived"
    ]
    with pytest.raises(cm.ParentMismatch):
        chain.verify(2, bad, 3)
    chain.verify(2, chain.headers[3], 3)  # the real one passes


def test_the_trusting_period_and_the_clock_bound_a_skip(chain: Chain) -> None:
    header = chain.headers[34]
    trusted = chain.anchored(30)
    with pytest.raises(cm.TrustExpired):
        chain.light.verify_header(chain.client, trusted, header, chain.now(30) + 8 * 86_400)
    with pytest.raises(cm.HeaderFromFuture):
        chain.light.verify_header(chain.client, trusted, header, chain.now(30) - 3600)


# --- transaction proofs on the real transactions ------------------------------------------


@pytest.mark.parametrize("height", [2, 30])
def test_a_real_transaction_is_proven_in_its_verified_block(chain: Chain, height: int) -> None:
    proof = chain.call(lambda a: a.prove_transaction(Height(height), 0))
    assert proof.nodes == ()  # one transaction per real block: the leaf is the root
    chain.light.verify_membership(chain.anchored(height), proof)


def _proof_rows(proof: InclusionProof) -> dict[str, tuple[InclusionProof, type[Exception]]]:
    middle = len(proof.value) // 2
    flipped = proof.value[:middle] + bytes([proof.value[middle] ^ 1]) + proof.value[middle + 1 :]
    return {
        "a byte of the transaction": (replace(proof, value=flipped), VerificationError),
        "index 1 of a 1-transaction block": (
            replace(proof, key=(1).to_bytes(8, "big")),
            cm.BadMerklePath,
        ),
        "a path step past the depth": (replace(proof, nodes=(bytes(32),)), cm.BadMerklePath),
        "a 4-byte key": (replace(proof, key=bytes(4)), BadProof),
        "another height": (replace(proof, height=Height(proof.height + 1)), RootMismatch),
        "another chain": (replace(proof, chain_id=ChainId("chain2")), RootMismatch),
        "an unknown kind": (replace(proof, kind="chainmaker-state"), BadProof),
        "an absence claimed": (replace(proof, value=b""), BadProof),
    }


@pytest.mark.parametrize(
    "row",
    [
        "a byte of the transaction",
        "index 1 of a 1-transaction block",
        "a path step past the depth",
        "a 4-byte key",
        "another height",
        "another chain",
        "an unknown kind",
        "an absence claimed",
    ],
)
def test_a_malleated_transaction_proof_is_refused(chain: Chain, row: str) -> None:
    proof = chain.call(lambda a: a.prove_transaction(Height(30), 0))
    bad, error = _proof_rows(proof)[row]
    with pytest.raises(error):
        chain.light.verify_membership(chain.anchored(30), bad)


def test_a_proof_against_another_verified_block_is_refused(chain: Chain) -> None:
    proof = chain.call(lambda a: a.prove_transaction(Height(2), 0))
    at_30 = chain.anchored(30)
    with pytest.raises(RootMismatch):
        chain.light.verify_membership(at_30, proof)
    with pytest.raises(cm.ProofRootMismatch):  # relabelled to reach the root check
        chain.light.verify_membership(at_30, replace(proof, height=Height(30)))


def test_a_header_only_block_has_no_transaction_to_prove(chain: Chain) -> None:
    with pytest.raises(NotFound):
        chain.call(lambda a: a.prove_transaction(Height(3), 0))


# --- what the adapter reads and refuses ---------------------------------------------------


def test_receipts_of_the_real_transactions_and_of_an_unknown_one(chain: Chain) -> None:
    for height, tx_id in chain.recording.tx_ids():
        receipt = chain.call(lambda a, t=tx_id: a.receipt(bytes.fromhex(t)))
        assert (receipt.height, receipt.success) == (height, True)
    with pytest.raises(NotFound):
        chain.call(lambda a: a.receipt(bytes(32)))
    with pytest.raises(InvalidInput):
        chain.call(lambda a: a.receipt(b"short"))


def test_events_are_only_the_bridge_contracts_and_none_is_made_up() -> None:
    """No bridge of the hub is on chain1: no events; naming the ERC-20 contract of block 2 as
    the bridge gives none either (its event is an ERC-20 Transfer, not a send_packet)."""
    assert Chain().call(lambda a: a.events(Height(2), Height(34))) == []
    erc20 = Chain(bridge_contract="EVM_ERC202")
    assert erc20.call(lambda a: a.events(Height(2), Height(2))) == []
    with pytest.raises(InvalidInput):
        erc20.call(lambda a: a.events(Height(3), Height(2)))


def test_state_proofs_and_writes_are_refused_clearly(chain: Chain) -> None:
    with pytest.raises(InvalidInput, match="no state root"):
        chain.call(lambda a: a.prove_state(b"key", Height(2)))
    with pytest.raises(ConfigError, match="cannot build or sign"):
        chain.call(lambda a: a.submit(None))  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        chain.call(lambda a: a.account_nonce(bytes(20)))
    adapter = chain.adapter()
    assert (adapter.bridge(), adapter.htlc(), adapter.source_transactions()) == (None,) * 3
    assert adapter.chain_timing() is None


def test_heights_not_recorded_are_not_found(chain: Chain) -> None:
    with pytest.raises(NotFound):
        chain.call(lambda a: a.header(Height(4)))
    with pytest.raises(InvalidInput):
        chain.call(lambda a: a.header(0))  # type: ignore[arg-type]
    assert chain.call(lambda a: a.latest_height()) == 34


def test_addresses_follow_chainmakers_rules() -> None:
    raw = "0x" + "Ab" * 20
    assert ChainMakerAdapter.validate_address(raw) == "ab" * 20
    assert ChainMakerAdapter.address_bytes("ab" * 20) == bytes.fromhex("ab" * 20)
    for bad in ("ab" * 19, "0x" + "zz" * 20, "", "ab" * 21):
        with pytest.raises(InvalidInput) as err:
            ChainMakerAdapter.validate_address(bad, "receiver")
        assert err.value.details.get("field") == "receiver"
    with pytest.raises(InvalidInput):
        ChainMakerAdapter.validate_asset("x")


# --- the codec and the settings -----------------------------------------------------------


def test_the_codec_refuses_damaged_states(chain: Chain) -> None:
    state = chain.anchored(30)
    data = chain.codec.encode_consensus(state)
    assert chain.codec.decode_consensus(data, chain.client) == state
    with pytest.raises(BadEncoding):
        chain.codec.decode_client(b"\x00 not json")
    with pytest.raises(BadEncoding):  # a stored header that is not the stored hash's
        chain.codec.decode_consensus(data.replace(b'"timestamp":17', b'"timestamp":18'), None)
    with pytest.raises(BadEncoding):
        chain.codec.decode_consensus(b'{"height": 1}', None)
    client = chain.codec.decode_client(chain.codec.encode_client(chain.client))
    assert sorted(client.trusts) == [0, 22]


def test_an_unusable_trust_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        ChainMakerAdapter(_settings(trust_file=str(tmp_path / "missing.json")))
    other = tmp_path / "other.json"
    other.write_text(TRUST_FILE.read_text().replace('"chain1"', '"chain2"'))
    with pytest.raises(ConfigError):
        ChainMakerAdapter(_settings(trust_file=str(other)))


# --- the bridge's answers, translated at the boundary -------------------------------------


def _answering(handler: Callable[[httpx.Request], httpx.Response]) -> ChainMakerAdapter:
    return ChainMakerAdapter(_settings(), transport=httpx.MockTransport(handler))


def _block_json(height: int) -> dict[str, object]:
    return ChainMakerRecording(vectors_dir()).blocks[height]


def _timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("slow", request=request)


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("refused", request=request)


def _other_chain(request: httpx.Request) -> httpx.Response:
    doc = json.loads(json.dumps(_block_json(2)))
    doc["block"]["header"]["chain_id"] = "chain2"
    return httpx.Response(200, json=doc)


BRIDGE_ROWS: dict[str, tuple[Callable[[httpx.Request], httpx.Response], type[Exception]]] = {
    "a timeout": (_timeout, ChainUnavailable),
    "a refused connection": (_refused, ChainUnavailable),
    "a 503": (lambda r: httpx.Response(503, text="busy"), ChainUnavailable),
    "a 404": (lambda r: httpx.Response(404, json={}), NotFound),
    "a 400": (lambda r: httpx.Response(400, json={}), ChainError),
    "not JSON": (lambda r: httpx.Response(200, text="<html>"), ChainError),
    "a JSON list": (lambda r: httpx.Response(200, json=[]), ChainError),
    "a block that does not decode": (
        lambda r: httpx.Response(200, json={"block": {"header": {"nope": 1}}}),
        ChainError,
    ),
    "another height's block": (lambda r: httpx.Response(200, json=_block_json(3)), ChainError),
    "another chain's block": (_other_chain, ChainError),
}


@pytest.mark.parametrize("row", list(BRIDGE_ROWS))
def test_the_bridges_failures_become_the_seams_errors(row: str) -> None:
    handler, error = BRIDGE_ROWS[row]
    adapter = _answering(handler)
    with pytest.raises(error) as caught:
        _run(adapter.header(Height(2)), adapter)
    assert type(caught.value) is error  # a ChainError is not retried, ChainUnavailable is


def test_a_height_that_is_not_an_integer_is_a_chain_error() -> None:
    for body in ({"block_height": "x"}, {"block_height": True}, {}):
        adapter = _answering(lambda r, b=body: httpx.Response(200, json=b))
        with pytest.raises(ChainError):
            _run(adapter.latest_height(), adapter)
