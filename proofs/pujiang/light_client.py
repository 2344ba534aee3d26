"""The Pujiang light client: which headers of a subchain the hub believes, and why.

The public face of ``proofs.pujiang``: import from here. Pure and synchronous:
state in, new state out; no I/O and no clock (``now_ms`` is a parameter, unix
milliseconds); the caller persists what is returned. ``docs/pujiang-chain.md``
("Light client") is the specification, with the order of checks.

=====================  ========================================================
module                 what it holds
=====================  ========================================================
``states``             ``ClientState``, ``ConsensusState``, evidence, checks on them
``commit``             validator sets (decoded once, keys and PoPs checked once), commits
``headers``            ``create_checkpoint``, ``verify_header``, ``verify_bisection``
``misbehaviour``       ``process_update`` (ibc-go's order), ``validate_fork``,
                       ``check_misbehaviour``
``state_proofs``       event proofs, state membership and non-membership
this module            proofs against a client, the seam envelope, ``PujiangLightClient``
=====================  ========================================================

SECURITY: the trust assumption is the usual one of a BFT light client: fewer
than 1/3 of the power of any set the client trusts is faulty while that trust
lasts (the trusting period); the checkpoint is trusted out of band.
"""

from __future__ import annotations

from typing import Final

from core.errors import BadEncoding, BadProof, InvalidHeader, InvalidInput
from core.ids import ChainId, Height
from core.types import HeaderUpdate, InclusionProof
from proofs.hashing import HashFunction
from proofs.merkle import verify_inclusion
from proofs.pujiang import codec
from proofs.pujiang.codec import Event
from proofs.pujiang.commit import BackendArg, ValidatorSet, checking, decode_with_check
from proofs.pujiang.envelope import (
    decode_header_evidence,
    encode_header_evidence,
    encode_signed_header,
)
from proofs.pujiang.headers import (
    DEFAULT_MAX_BISECTION_HEADERS,
    create_checkpoint,
    verify_bisection,
    verify_header,
)
from proofs.pujiang.misbehaviour import (
    apply_freeze,
    check_misbehaviour,
    compute_time_conflict,
    is_misbehaviour,
    process_update,
    validate_fork,
)
from proofs.pujiang.state_proofs import (
    decode_event_proof,
    decode_state_absence_proof,
    decode_state_proof,
    validate_event_proof,
    validate_state_absence_proof,
    validate_state_proof,
)
from proofs.pujiang.states import (
    TRUST_LEVEL,
    ClientState,
    ConsensusState,
    Fetch,
    MisbehaviourEvidence,
    SignedHeader,
    Update,
    decode_header_bytes,
    is_within_trusting_period,
    require_int,
    validate_active,
)

MS_PER_SECOND: Final = 1000


# --- proofs against a verified header -------------------------------------------------------


def verify_event(client: ClientState, consensus: ConsensusState, proof: bytes) -> Event:
    """The event of an ``event_proof``, proven against ``consensus``'s events root.

    Checks: ``frozen``; ``encoding``; ``proof-height``; ``inclusion`` with tree
    size ``consensus.event_count`` (never a size from the proof).
    """
    validate_active(client)
    return validate_event_proof(consensus, decode_event_proof(proof), client.hash_fn)


def verify_state_membership(
    client: ClientState,
    consensus: ConsensusState,
    proof: bytes,
    *,
    key: bytes | None = None,
    value: bytes | None = None,
) -> bytes:
    """The value a ``state_proof`` proves (``key``/``value`` checked when given)."""
    validate_active(client)
    return validate_state_proof(
        consensus, decode_state_proof(proof), client.hash_fn, key=key, value=value
    )


def verify_state_non_membership(
    client: ClientState, consensus: ConsensusState, proof: bytes, *, key: bytes | None = None
) -> None:
    """Return when a ``state_absence_proof`` proves its key absent at ``consensus``."""
    validate_active(client)
    validate_state_absence_proof(
        consensus, decode_state_absence_proof(proof), client.hash_fn, key=key
    )


# --- the seam envelope ----------------------------------------------------------------------


def trusted_header(
    chain_id: str,
    header: bytes,
    commit: bytes,
    validators: bytes,
    *,
    hash_profile: str = "sha256",
) -> HeaderUpdate:
    """The seam envelope of a signed header (height, hash and time read from the header).

    CONTRACT: the fields besides ``encoded`` and ``evidence`` are for routing and
    display only; :class:`PujiangLightClient` checks them against the header.
    """
    hdr = decode_with_check(codec.decode_header, header, "header")
    return HeaderUpdate(
        chain_id=ChainId(chain_id),
        height=Height(hdr.height),
        hash=codec.hash_profile(hash_profile)(header),
        time=hdr.time_ms // MS_PER_SECOND,
        encoded=header,
        evidence=encode_header_evidence(commit, validators),
    )


EVENT_PROOF_KIND: Final = "rfc6962-event"
"""``InclusionProof.kind`` of an event: key = leaf index, value = leaf, nodes = path."""
STATE_PROOF_KIND: Final = "pujiang-state"
STATE_ABSENCE_PROOF_KIND: Final = "pujiang-state-absent"


class PujiangLightClient:
    """The ``core.seams.LightClient`` of Pujiang subchains, over the functions above.

    Envelope: ``HeaderUpdate.encoded`` is the header's RLP;
    ``HeaderUpdate.evidence`` is ``rlp([commit, validators])`` (both nested as
    RLP lists, not wrapped in byte strings). ``now`` is unix **seconds** (the
    seam's unit), turned into milliseconds here. ``InclusionProof`` kinds:

    * ``rfc6962-event``: ``key`` the leaf index (big-endian, any width),
      ``value`` the event's RLP (the leaf), ``nodes`` the audit path, leaf side
      first; the tree size is the verified header's ``event_count``;
    * ``pujiang-state``: ``key``, ``value``; ``nodes == (state_proof,)``;
    * ``pujiang-state-absent``: ``key``; ``nodes == (state_absence_proof,)``.

    ``hash_profile``, when given, must be the client's (a configuration check).
    """

    family = "pujiang"

    def __init__(self, *, hash_profile: str | None = None, backend: BackendArg = None) -> None:
        if hash_profile is not None:
            codec.hash_profile(hash_profile)
        self.hash_profile = hash_profile
        self._backend = backend

    def _profile(self, name: str) -> HashFunction:
        if self.hash_profile is not None and self.hash_profile != name:
            raise InvalidInput(
                f"this light client hashes with {self.hash_profile}, the state says {name}"
            )
        return codec.hash_profile(name)

    def verify_header(
        self, client_state: object, trusted: object, header: HeaderUpdate, now: int
    ) -> ConsensusState:
        """:func:`verify_header` on the envelope; ``envelope`` if its fields disagree."""
        client, state = _states(client_state, trusted)
        validate_active(client)
        self._profile(client.hash_profile)
        require_int(now, "now", minimum=0)
        commit, validators = decode_header_evidence(header.evidence)
        hdr, hdr_hash = decode_header_bytes(client, header.encoded)
        expected = (client.chain_id, hdr.height, hdr_hash, hdr.time_ms // MS_PER_SECOND)
        given = (str(header.chain_id).encode(), header.height, header.hash, header.time)
        if expected != given:
            raise InvalidHeader(
                "the envelope's chain id, height, hash or time differ from the header's",
                check="envelope",
            )
        return verify_header(
            client,
            state,
            header.encoded,
            commit,
            validators,
            now * MS_PER_SECOND,
            backend=self._backend,
        )

    def verify_membership(
        self,
        consensus_state: object,
        proof: InclusionProof,
        *,
        client_state: ClientState | None = None,
    ) -> None:
        """Check ``proof`` against ``consensus_state`` (and that the client is active, if given).

        CONTRACT: the seam passes no client state; callers that have it pass
        ``client_state`` so a frozen client refuses, as the pure functions do.
        """
        if not isinstance(consensus_state, ConsensusState):
            raise InvalidInput("a Pujiang consensus state is required")
        if client_state is not None:
            validate_active(client_state)
        if proof.kind not in (EVENT_PROOF_KIND, STATE_PROOF_KIND, STATE_ABSENCE_PROOF_KIND):
            raise InvalidInput(f"unknown Pujiang proof kind {proof.kind!r}")
        hash_fn = self._profile(consensus_state.hash_profile)
        if proof.height != consensus_state.height:
            raise BadProof("the proof's height is not the consensus state's", check="proof-height")
        if proof.kind == EVENT_PROOF_KIND:
            with checking("inclusion"):
                verify_inclusion(
                    proof.value,
                    int.from_bytes(proof.key, "big"),
                    consensus_state.event_count,
                    list(proof.nodes),
                    consensus_state.events_root,
                    hash_fn=hash_fn,
                )
            return
        if len(proof.nodes) != 1:
            raise BadEncoding("nodes must hold exactly the wire proof", check="encoding")
        wire = proof.nodes[0]
        if proof.kind == STATE_PROOF_KIND:
            validate_state_proof(
                consensus_state,
                decode_state_proof(wire),
                hash_fn,
                key=proof.key,
                value=proof.value,
            )
        else:
            if proof.value:  # an absence proves no value: one claimed with it is a lie
                raise BadProof("an absence proof cannot carry a value", check="absence-value")
            validate_state_absence_proof(
                consensus_state, decode_state_absence_proof(wire), hash_fn, key=proof.key
            )

    def check_misbehaviour(
        self,
        client_state: object,
        header_a: HeaderUpdate,
        header_b: HeaderUpdate,
        *,
        trusted: ConsensusState | None = None,
        now: int | None = None,
    ) -> bool:
        """True when both headers verify from ``trusted`` and conflict.

        CONTRACT: ``trusted`` and ``now`` are required although the seam does
        not name them: without a trust anchor anyone could make up two
        conflicting headers signed by keys of their own and freeze the client.
        """
        if trusted is None or now is None:
            raise InvalidInput("Pujiang misbehaviour needs the trusted consensus state and now")
        client, state = _states(client_state, trusted)
        validate_active(client)
        pairs = []
        for item in (header_a, header_b):
            commit, validators = decode_header_evidence(item.evidence)
            pairs.append((item.encoded, commit, validators))
        return is_misbehaviour(
            client, state, pairs[0], pairs[1], now * MS_PER_SECOND, backend=self._backend
        )


def _states(client_state: object, trusted: object) -> tuple[ClientState, ConsensusState]:
    if not isinstance(client_state, ClientState) or not isinstance(trusted, ConsensusState):
        raise InvalidInput("a Pujiang ClientState and ConsensusState are required")
    return client_state, trusted


__all__ = [
    "DEFAULT_MAX_BISECTION_HEADERS",
    "EVENT_PROOF_KIND",
    "STATE_ABSENCE_PROOF_KIND",
    "STATE_PROOF_KIND",
    "TRUST_LEVEL",
    "ClientState",
    "ConsensusState",
    "Fetch",
    "MisbehaviourEvidence",
    "PujiangLightClient",
    "SignedHeader",
    "Update",
    "ValidatorSet",
    "apply_freeze",
    "check_misbehaviour",
    "compute_time_conflict",
    "create_checkpoint",
    "decode_header_evidence",
    "encode_header_evidence",
    "encode_signed_header",
    "is_misbehaviour",
    "is_within_trusting_period",
    "process_update",
    "trusted_header",
    "validate_active",
    "validate_fork",
    "verify_bisection",
    "verify_event",
    "verify_header",
    "verify_state_membership",
    "verify_state_non_membership",
]
