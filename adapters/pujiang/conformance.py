"""The conformance kit's target for a Pujiang chain (``adapters.testing``).

What the seams cannot say, said for Pujiang: the bridge event is a
``bridge_send`` signed with a funded account's key; the checkpoint is a
``create_checkpoint`` of the light client at a header taken from the node; and
the malleations re-encode one field of the header, the commit, the validator
set or the wire proof, so each reaches a specific check of the light client
(the generic byte flips mostly stop at decoding).

No pytest here: a chain team runs the kit against its own node with
``pytest --pjgw-chain chain.toml --pyargs
adapters.testing.configured`` (``docs/adapter-guide.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from adapters.pujiang.actions import TxSigner, build_signed_tx, raw_tx_action
from adapters.pujiang.adapter import PujiangAdapter
from adapters.pujiang.settings import SEED_PATTERN, PujiangSettings
from adapters.testing.target import (
    ConformanceTarget,
    flip,
    generic_header_malleations,
    generic_proof_malleations,
    generic_signed_send_malleations,
)
from core.errors import ConfigError
from core.ids import ChainId
from core.records import TransferKind
from core.seams import ChainAdapter
from core.types import ChainAction, HeaderUpdate, InclusionProof, SendIntent
from proofs.hashing import SHA256, HashFunction
from proofs.merkle import leaf_hash
from proofs.pujiang import codec
from proofs.pujiang.light_client import (
    ClientState,
    create_checkpoint,
    decode_header_evidence,
    encode_header_evidence,
)


class PujiangTargetOptions(BaseModel):
    """``[target_options]`` of a ``--pjgw-chain`` file for a Pujiang chain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sender_key: SecretStr = Field(
        description="32-byte seed (hex) of an account holding `denom` (Ed25519, or SM2 on gm)"
    )
    dest_chain: str = "pjgw-conformance"
    receiver: str = "0x" + "ab" * 20
    denom: str = "upj"
    amount: int = Field(1, ge=1)
    trusting_period_s: int = Field(14 * 24 * 3600, ge=1)
    max_clock_drift_s: int = Field(10, ge=0)
    produce_blocks: bool = Field(False, description="POST /v1/blocks between polls (instant mode)")
    wait_timeout: float = Field(30.0, gt=0)

    @field_validator("sender_key")
    @classmethod
    def _check_seed(cls, value: SecretStr) -> SecretStr:
        if not SEED_PATTERN.fullmatch(value.get_secret_value()):
            raise ValueError("sender_key must be a 32-byte seed in hex")
        return value


class PujiangTarget(ConformanceTarget):
    """A live Pujiang chain for the kit; ``transport`` as for ``PujiangAdapter``."""

    def __init__(
        self,
        settings: PujiangSettings,
        options: PujiangTargetOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.transport = transport
        self.name = f"pujiang:{settings.chain_id}"
        self.wait_timeout = options.wait_timeout
        seed = bytes.fromhex(options.sender_key.get_secret_value().removeprefix("0x"))
        self._sender = TxSigner(seed, settings.account_scheme)  # the chain's scheme
        self._nonce: int | None = None

    def make_adapter(self) -> ChainAdapter:
        return PujiangAdapter(self.settings, transport=self.transport)

    async def _next_nonce(self, adapter: PujiangAdapter) -> int:
        committed = await adapter.account_nonce(self._sender.address(adapter.hash_fn))
        self._nonce = max(committed, self._nonce or 0)
        return self._nonce

    async def _signed(self, adapter: ChainAdapter, kind: str, args: object) -> bytes:
        pujiang = _pujiang(adapter)
        nonce = await self._next_nonce(pujiang)
        tx = build_signed_tx(self._sender, pujiang.chain_id, nonce, kind, args)
        self._nonce = nonce + 1
        return tx

    async def trigger_send_packet(self, adapter: ChainAdapter) -> bytes:
        """A ``bridge_send`` of ``amount`` ``denom`` to ``dest_chain``, timing out in an hour."""
        o = self.options
        timeout_ms = (self.now() + 3600) * 1000
        receiver = bytes.fromhex(o.receiver.removeprefix("0x"))
        args = [o.dest_chain.encode(), receiver, o.denom.encode(), o.amount, 0, timeout_ms]
        tx = await self._signed(adapter, "bridge_send", args)
        return await adapter.submit(raw_tx_action(tx))

    async def submittable_action(self, adapter: ChainAdapter) -> ChainAction:
        """A signed transfer of 1 ``denom`` to the sender itself, as a ``raw_tx``."""
        to = self._sender.address(_pujiang(adapter).hash_fn)
        tx = await self._signed(adapter, "transfer", [to, self.options.denom.encode(), 1])
        return raw_tx_action(tx)

    async def signed_send(self, adapter: ChainAdapter) -> tuple[SendIntent, bytes] | None:
        """A ``bridge_send`` as an API client signs it (not sent), and the intent it carries."""
        pujiang = _pujiang(adapter)
        o = self.options
        intent = SendIntent(
            kind=TransferKind.ASSET,
            source_chain=pujiang.chain_id,
            dest_chain=ChainId(o.dest_chain),
            sender=self._sender.address(pujiang.hash_fn),
            receiver=bytes.fromhex(o.receiver.removeprefix("0x")),
            denom=o.denom,
            amount=o.amount,
            timeout_time_ms=(self.now() + 3600) * 1000,
        )
        args = [o.dest_chain.encode(), intent.receiver, o.denom.encode(), o.amount, 0]
        return intent, await self._signed(adapter, "bridge_send", [*args, intent.timeout_time_ms])

    def signed_send_malleations(
        self, intent: SendIntent, raw: bytes
    ) -> Mapping[str, tuple[SendIntent, bytes]]:
        """The generic ones, plus each field of the intent the bridge-module args carry."""
        changed = {
            "amount": replace(intent, amount=intent.amount + 1),
            "receiver": replace(intent, receiver=flip(intent.receiver, 0)),
            "dest_chain": replace(intent, dest_chain=ChainId(f"{intent.dest_chain}-x")),
            "denom": replace(intent, denom=intent.denom + "x"),
            "timeout_height": replace(intent, timeout_height=intent.timeout_height + 1),
            "timeout_time_ms": replace(intent, timeout_time_ms=intent.timeout_time_ms + 1),
            "kind (a message)": replace(
                intent, kind=TransferKind.MESSAGE, denom="", amount=0, payload=b"x"
            ),
        }
        cases = dict(generic_signed_send_malleations(intent, raw))
        cases.update({f"intent: {name}": (bad, raw) for name, bad in changed.items()})
        return cases

    async def checkpoint(
        self, adapter: ChainAdapter, header: HeaderUpdate
    ) -> tuple[object, object]:
        client = ClientState(
            chain_id=str(adapter.chain_id).encode(),
            trusting_period_ms=self.options.trusting_period_s * 1000,
            max_clock_drift_ms=self.options.max_clock_drift_s * 1000,
            hash_profile=self.settings.hash_profile,
        )
        _, validators = decode_header_evidence(header.evidence)
        consensus = create_checkpoint(
            client,
            header.encoded,
            validators,
            trusted_height=header.height,
            trusted_hash=header.hash,
            now_ms=self.now() * 1000,
        )
        return client, consensus

    async def produce_block(self, adapter: ChainAdapter) -> None:
        if self.options.produce_blocks:
            await _pujiang(adapter).node.post_once("/v1/blocks")

    def header_malleations(self, header: HeaderUpdate) -> Mapping[str, HeaderUpdate]:
        hash_fn = codec.hash_profile(self.settings.hash_profile)
        return generic_header_malleations(header) | pujiang_header_malleations(header, hash_fn)

    def proof_malleations(self, proof: InclusionProof) -> Mapping[str, InclusionProof]:
        return generic_proof_malleations(proof) | pujiang_proof_malleations(proof)


def target_from_config(
    options: Mapping[str, Any],
    target_options: Mapping[str, Any],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> PujiangTarget:
    """The target of a ``--pjgw-chain`` file; ``ConfigError`` without echoing any value."""
    settings = PujiangSettings.from_options(dict(options))
    try:
        parsed = PujiangTargetOptions(**target_options)
    except ValidationError as err:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in err.errors(include_input=False))
        raise ConfigError(f"invalid Pujiang target_options: {fields}") from None
    return PujiangTarget(settings, parsed, transport=transport)


def _pujiang(adapter: ChainAdapter) -> PujiangAdapter:
    if not isinstance(adapter, PujiangAdapter):
        raise ConfigError("the Pujiang target drives a PujiangAdapter")
    return adapter


# --- malleations that reach past decoding -------------------------------------------------


def pujiang_header_malleations(
    header: HeaderUpdate, hash_fn: HashFunction = SHA256
) -> dict[str, HeaderUpdate]:
    """One field changed and re-encoded canonically, so each hits a check, not the decoder.

    The envelope (hash, time) follows the change, so what rejects the header is
    the commit or a rule of the chain, not a label mismatch.
    """
    hdr = codec.decode_header(header.encoded)
    commit_bytes, valset_bytes = decode_header_evidence(header.evidence)
    commit = codec.decode_commit(commit_bytes)
    valset = codec.decode_validator_set(valset_bytes)

    def with_header(**fields: Any) -> HeaderUpdate:
        changed = hdr.copy(**fields)
        encoded = codec.encode(changed)
        return replace(header, encoded=encoded, hash=hash_fn(encoded), time=changed.time_ms // 1000)

    def with_evidence(
        commit_: codec.Commit | None = None, valset_: list[Any] | None = None
    ) -> HeaderUpdate:
        c = codec.encode(commit_) if commit_ is not None else commit_bytes
        v = codec.encode(valset_) if valset_ is not None else valset_bytes
        return replace(header, evidence=encode_header_evidence(c, v))

    signers = codec.decode_signers(commit.signers, len(valset))
    cases = {
        "header: state_root changed": with_header(state_root=flip(hdr.state_root, 0)),
        "header: events_root changed": with_header(events_root=flip(hdr.events_root, 0)),
        "header: event_count raised": with_header(event_count=hdr.event_count + 1),
        "header: time moved": with_header(time_ms=hdr.time_ms + 1),
        "header: chain id of another chain": with_header(chain_id=hdr.chain_id + b"x"),
        "envelope: height label changed": replace(header, height=header.height + 1),
        "commit: round changed": with_evidence(commit.copy(round=commit.round + 1)),
        "commit: signed another header hash": with_evidence(
            commit.copy(header_hash=flip(commit.header_hash, 0))
        ),
        "commit: height changed": with_evidence(commit.copy(height=commit.height + 1)),
        "commit: no signers": with_evidence(commit.copy(signers=bytes(len(commit.signers)))),
        "commit: aggregate signature flipped": with_evidence(
            commit.copy(aggregate_signature=flip(commit.aggregate_signature, -1))
        ),
        "validators: a power raised": with_evidence(
            valset_=[valset[0].copy(power=valset[0].power + 1), *valset[1:]]
        ),
    }
    if len(signers) > 1:
        # One signer less may still be a quorum: then only the aggregate signature catches it.
        fewer = codec.encode_signers(signers[1:], len(valset))
        cases["commit: one signer dropped from the bitmap"] = with_evidence(
            commit.copy(signers=fewer)
        )
    return cases


def pujiang_proof_malleations(proof: InclusionProof) -> dict[str, InclusionProof]:
    """Changes that stay well-formed, so the Merkle check (not a decoder) must catch them."""
    index = int.from_bytes(proof.key, "big")
    event = codec.decode_event(proof.value)
    cases = {
        "proof: leaf index moved up": replace(proof, key=(index + 1).to_bytes(8, "big")),
        "proof: height of another block": replace(proof, height=proof.height + 1),
        "proof: event re-encoded with another event_index": replace(
            proof, value=codec.encode(event.copy(event_index=event.event_index + 1))
        ),
        "proof: event re-encoded with another kind": replace(
            proof, value=codec.encode(event.copy(kind=b"recv_packet"))
        ),
        "proof: leaf hash given as the value": replace(
            proof, value=leaf_hash(proof.value, hash_fn=SHA256)
        ),
    }
    if index > 0:
        cases["proof: leaf index moved down"] = replace(proof, key=(index - 1).to_bytes(8, "big"))
    if len(proof.nodes) > 1:
        cases["proof: path nodes swapped"] = replace(
            proof, nodes=(proof.nodes[1], proof.nodes[0], *proof.nodes[2:])
        )
    return cases


__all__ = [
    "PujiangTarget",
    "PujiangTargetOptions",
    "pujiang_header_malleations",
    "pujiang_proof_malleations",
    "target_from_config",
]
