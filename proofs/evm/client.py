"""The EVM light client behind the ``core.seams.LightClient`` seam.

A thin, pure wrapper over the pieces of :mod:`proofs.evm`: it takes the
chain-neutral envelopes the relayer moves (``HeaderUpdate``,
``InclusionProof``) and checks them with the header, chain, finality and
receipt-proof functions. No I/O, no clock: ``now`` (unix seconds) is a
parameter.

Wire formats (also in ``docs/evm-light-client.md``):

* ``HeaderUpdate.encoded``: the header's canonical RLP (:func:`encode_header`);
  ``hash`` is the chain's block hash as the node reported it (checked, never
  trusted); ``evidence``: ``rlp([ancestors, descendants])``, each a list of
  header RLPs in ascending order: the headers strictly between the trusted
  consensus state and the header, then the headers after it that the finality
  policy needs (``depth`` of them for :class:`ConfirmationDepth`, none for BFT).
* ``InclusionProof`` of kind ``"mpt-receipt"``: ``key = rlp([tx_index, log_index])``
  (``log_index`` within the transaction's receipt), ``value = rlp([address,
  [topics], data])`` (the log as the receipt stores it), ``nodes`` the receipt
  proof (key ``rlp(tx_index)``) against the header's ``receiptsRoot``.

States are frozen dataclasses; the caller persists them. The finality policy
and the optional header rules are the light client's configuration (one
instance per chain), not state.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace

import rlp
from rlp.exceptions import RLPException

from core.errors import (
    BadEncoding,
    BadProof,
    ClientFrozen,
    HeaderExpired,
    InsufficientPower,
    InvalidHeader,
    InvalidInput,
    RootMismatch,
    ValueMismatch,
)
from core.ids import ChainId, Height
from core.types import HeaderUpdate, InclusionProof
from proofs.evm.chain import HeaderRules
from proofs.evm.events import verify_log_inclusion
from proofs.evm.finality import FinalityPolicy, verify_final_header
from proofs.evm.header import EvmHeader, decode_header, encode_header
from proofs.mpt import EMPTY_CODE_HASH, Log, verify_eip1186_response
from proofs.rlp_lists import rlp_of, rlp_of_strings, uint_bytes

PROOF_KIND = "mpt-receipt"
STORAGE_PROOF_KIND = "eip1186-storage"
"""A contract storage slot at a block: ``key`` = address (20) ‖ slot (32), ``value`` the
slot's value as 32 big-endian bytes or empty for zero, ``nodes`` = (the ``eth_getProof``
answer as canonical JSON,)."""
"""``InclusionProof.kind`` of a receipt-log proof."""

DEFAULT_MAX_CLOCK_DRIFT = 15
DEFAULT_MAX_HEADERS = 1024


@dataclass(frozen=True, slots=True)
class EvmClientState:
    """The parameters of one EVM light client (persisted by the caller).

    * ``trusting_period``: seconds after a consensus state's header time during
      which headers may be verified from it (bounds a stale checkpoint).
    * ``max_clock_drift``: how far (seconds) a header's time may be ahead of ``now``.
    * ``max_headers``: the most headers one update may carry (ancestors, the
      header and its descendants): bounds the work an update can ask for.
    * ``frozen_height``: set by :func:`freeze_client` after misbehaviour.
    """

    chain_id: ChainId
    trusting_period: int
    max_clock_drift: int = DEFAULT_MAX_CLOCK_DRIFT
    max_headers: int = DEFAULT_MAX_HEADERS
    frozen_height: Height | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "chain_id", ChainId(self.chain_id))
        for name in ("trusting_period", "max_clock_drift", "max_headers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidInput(f"{name} must be a non-negative integer", field=name)
        if self.trusting_period == 0 or self.max_headers == 0:
            raise InvalidInput("trusting_period and max_headers must be positive")

    @property
    def is_frozen(self) -> bool:
        return self.frozen_height is not None


@dataclass(frozen=True, slots=True)
class EvmConsensusState:
    """A verified header of one chain: what proofs at its height are checked against."""

    chain_id: ChainId
    header: EvmHeader
    hash: bytes

    @property
    def height(self) -> Height:
        return Height(self.header.number)

    @property
    def timestamp(self) -> int:
        return self.header.timestamp

    @property
    def receipts_root(self) -> bytes:
        return self.header.receipts_root

    @property
    def state_root(self) -> bytes:
        return self.header.state_root


def freeze_client(client_state: EvmClientState, height: int) -> EvmClientState:
    """The client state frozen at ``height`` (apply after ``check_misbehaviour`` is True)."""
    if client_state.frozen_height is not None:
        return client_state
    return replace(client_state, frozen_height=Height(height))


# --- encodings ------------------------------------------------------------------------


def encode_header_evidence(
    ancestors: Sequence[EvmHeader], descendants: Sequence[EvmHeader]
) -> bytes:
    """``rlp([ancestors, descendants])`` of header RLPs (the ``HeaderUpdate.evidence``)."""
    return rlp.encode(
        [[encode_header(h) for h in ancestors], [encode_header(h) for h in descendants]]
    )


def decode_header_evidence(evidence: bytes) -> tuple[list[EvmHeader], list[EvmHeader]]:
    """The ``(ancestors, descendants)`` of :func:`encode_header_evidence`; ``BadEncoding``."""
    if evidence == b"":
        return [], []
    try:
        item = rlp.decode(evidence, strict=True)
    except (RLPException, TypeError) as err:
        raise BadEncoding("header evidence is not valid RLP") from err
    if not isinstance(item, list) or len(item) != 2:
        raise BadEncoding("header evidence must be rlp([ancestors, descendants])")
    lists: list[list[EvmHeader]] = []
    for part in item:
        if not isinstance(part, list) or not all(isinstance(h, bytes) for h in part):
            raise BadEncoding("header evidence must hold lists of header RLPs")
        lists.append([decode_header(h) for h in part])
    return lists[0], lists[1]


def encode_log_key(tx_index: int, log_index: int) -> bytes:
    """``rlp([tx_index, log_index])``: which log of which receipt a proof is about."""
    for name, value in (("tx_index", tx_index), ("log_index", log_index)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInput(f"{name} must be a non-negative integer", field=name)
    return rlp_of_strings([uint_bytes(tx_index), uint_bytes(log_index)])


def decode_log_key(key: bytes) -> tuple[int, int]:
    """``(tx_index, log_index)`` of :func:`encode_log_key`; ``BadEncoding`` otherwise."""
    try:
        item = rlp.decode(key, strict=True)
    except (RLPException, TypeError) as err:
        raise BadEncoding("receipt-log key is not valid RLP") from err
    if not isinstance(item, list) or len(item) != 2 or not all(isinstance(i, bytes) for i in item):
        raise BadEncoding("receipt-log key must be rlp([tx_index, log_index])")
    if any(i[:1] == b"\x00" for i in item):
        raise BadEncoding("receipt-log key holds a non-canonical integer")
    return int.from_bytes(item[0], "big"), int.from_bytes(item[1], "big")


def encode_log(log: Log) -> bytes:
    """``rlp([address, [topics], data])``: a log exactly as its receipt stores it
    (assembled by ``proofs.rlp_lists``: encoded for every log listed, proven and verified)."""
    return rlp_of([log.address, log.topics, log.data])


# --- the light client -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EvmLightClient:
    """``core.seams.LightClient`` for EVM chains, with a pluggable finality policy.

    ``policy`` decides finality (:class:`~proofs.evm.finality.ConfirmationDepth`,
    :class:`~proofs.evm.bft.BftFinality`,
    :class:`~proofs.evm.sync_committee.SyncCommitteeFinality`) and hashes
    headers; ``rules`` are optional header-only rules checked on every link.

    SECURITY: the trusted consensus state passed to ``verify_header`` came from
    a previous verification or from configuration (a checkpoint), never from
    the node being verified; see :func:`consensus_state_from_checkpoint`.
    """

    policy: FinalityPolicy
    rules: HeaderRules | None = None

    def consensus_state_from_checkpoint(
        self, chain_id: ChainId | str, header: EvmHeader, expected_hash: bytes
    ) -> EvmConsensusState:
        """The first consensus state, from a header whose hash came out of band.

        CONTRACT: ``expected_hash`` is configuration (an operator's checkpoint),
        not the node's word. ``RootMismatch`` when the header hashes otherwise.
        """
        computed = self.policy.compute_hash(header)
        if computed != expected_hash:
            raise RootMismatch(
                f"checkpoint header {header.number} hashes to 0x{computed.hex()}",
                height=header.number,
                check="checkpoint",
            )
        return EvmConsensusState(ChainId(chain_id), header, computed)

    def verify_header(
        self,
        client_state: object,
        trusted: object,
        header: HeaderUpdate,
        now: int,
    ) -> EvmConsensusState:
        """Verify ``header`` from ``trusted``; return its consensus state.

        Checks, in order (cheapest first; the first failure raises):

        1. the client is not frozen (``ClientFrozen``);
        2. the header is for the client's chain (``InvalidHeader``, ``chain-id``);
        3. ``now < trusted.timestamp + trusting_period`` (``HeaderExpired``);
        4. ``encoded`` decodes (``BadEncoding``) and agrees with the envelope's
           height and time (``InvalidHeader``, ``envelope``);
        5. the policy's hash of the header equals ``header.hash`` (``RootMismatch``, ``hash``);
        6. the header is above the trusted height (``InvalidHeader``, ``number``)
           and at most ``max_clock_drift`` ahead of ``now`` (``InvalidHeader``, ``future``);
        7. the evidence decodes, holds every ancestor and at most ``max_headers``
           headers (``InvalidHeader``, ``segment``);
        8. the whole segment links to the trusted header and the policy finds a
           final header at or above this one (``verify_final_header``: the
           chain's errors, ``InsufficientPower`` when it is not final yet).
        """
        state = _client_state(client_state)
        base = _consensus_state(trusted)
        if state.is_frozen:
            raise ClientFrozen(f"client of {state.chain_id} is frozen at {state.frozen_height}")
        if header.chain_id != state.chain_id:
            raise InvalidHeader(
                f"header is for chain {header.chain_id!r}, the client for {state.chain_id!r}",
                check="chain-id",
            )
        if now >= base.timestamp + state.trusting_period:
            raise HeaderExpired(
                f"trusted header {base.height} (time {base.timestamp}) is older than the "
                f"trusting period of {state.trusting_period} s at {now}",
                height=base.height,
            )
        decoded = _decode_envelope(header)
        computed = self.policy.compute_hash(decoded)
        if computed != header.hash:
            raise RootMismatch(
                f"header {decoded.number} hashes to 0x{computed.hex()}, not 0x{header.hash.hex()}",
                height=decoded.number,
                check="hash",
            )
        if decoded.number <= base.height:
            raise InvalidHeader(
                f"header {decoded.number} is not above the trusted height {base.height}",
                height=decoded.number,
                check="number",
            )
        if decoded.timestamp > now + state.max_clock_drift:
            raise InvalidHeader(
                f"header {decoded.number} is from the future ({decoded.timestamp} > {now} + "
                f"{state.max_clock_drift})",
                height=decoded.number,
                check="future",
            )
        ancestors, descendants = decode_header_evidence(header.evidence)
        gap = decoded.number - base.height - 1
        if len(ancestors) != gap:
            raise InvalidHeader(
                f"evidence holds {len(ancestors)} ancestor(s); {gap} lie between the trusted "
                f"height {base.height} and {decoded.number}",
                height=decoded.number,
                check="segment",
            )
        segment = [*ancestors, decoded, *descendants]
        if len(segment) > state.max_headers:
            raise InvalidHeader(
                f"update of {len(segment)} headers exceeds max_headers={state.max_headers}",
                height=decoded.number,
                check="segment",
            )
        final = verify_final_header(self.policy, base.header, segment, rules=self.rules)
        if final.number < decoded.number:
            raise InsufficientPower(
                f"header {decoded.number} is not final yet (newest final: {final.number})",
                height=decoded.number,
            )
        return EvmConsensusState(state.chain_id, decoded, computed)

    def verify_log(self, consensus_state: object, proof: InclusionProof) -> Log:
        """The proven log of an ``mpt-receipt`` proof (``verify_membership`` plus the log).

        Checks, in order: the kind, chain and height of the proof match the
        consensus state (``BadProof``: ``kind``, ``chain-id``, ``height``); the
        key decodes (``BadEncoding``); the receipt proof against
        ``receiptsRoot`` (``RootMismatch``, ``BadProof``, ``BadEncoding``); the
        transaction succeeded and its receipt holds ``log_index``
        (``ValueMismatch``); the log equals ``proof.value`` (``ValueMismatch``).
        """
        consensus = _consensus_state(consensus_state)
        if proof.kind != PROOF_KIND:
            raise BadProof(f"proof kind {proof.kind!r} is not {PROOF_KIND!r}", check="kind")
        if proof.chain_id != consensus.chain_id:
            raise BadProof(
                f"proof is for chain {proof.chain_id!r}, not {consensus.chain_id!r}",
                check="chain-id",
            )
        if proof.height != consensus.height:
            raise BadProof(
                f"proof is for height {proof.height}, the consensus state is at {consensus.height}",
                check="height",
            )
        tx_index, log_index = decode_log_key(proof.key)
        log = verify_log_inclusion(consensus.header, tx_index, proof.nodes, log_index)
        if encode_log(log) != proof.value:
            raise ValueMismatch(
                f"log {log_index} of transaction {tx_index} differs from the claimed one",
                height=consensus.height,
                tx_index=tx_index,
                log_index=log_index,
            )
        return log

    def verify_membership(self, consensus_state: object, proof: InclusionProof) -> None:
        """Check a receipt-log proof (:meth:`verify_log`) or a storage proof
        (:meth:`verify_storage`), by ``proof.kind``."""
        if proof.kind == STORAGE_PROOF_KIND:
            self.verify_storage(consensus_state, proof)
            return
        self.verify_log(consensus_state, proof)

    def verify_storage(self, consensus_state: object, proof: InclusionProof) -> None:
        """A storage slot's value at a verified block, by an EIP-1186 proof.

        Checks, in order: height (``BadProof`` ``height``); encoding; the
        account and storage proofs against ``stateRoot`` (``proofs.mpt``);
        ``address`` and ``slot`` are the ones of ``proof.key``; the account is a
        contract (``account``: no code means no bridge, not "not received");
        the proven value equals ``proof.value`` (``ValueMismatch``).
        """
        consensus = _consensus_state(consensus_state)
        if proof.height != consensus.height:
            raise BadProof(
                f"proof is for height {proof.height}, the consensus state is at {consensus.height}",
                check="height",
            )
        if len(proof.key) != 52 or len(proof.nodes) != 1:
            raise BadEncoding("a storage proof key is address ‖ slot and one answer node")
        address, slot = proof.key[:20], proof.key[20:]
        try:
            answer = json.loads(proof.nodes[0])
        except (ValueError, UnicodeDecodeError) as err:
            raise BadEncoding("the eth_getProof answer is not JSON") from err
        proven = verify_eip1186_response(consensus.state_root, answer)
        if proven.address != address:
            raise BadProof("the node proved another account than asked", check="address")
        if proven.account is None or proven.account.code_hash == EMPTY_CODE_HASH:
            raise BadProof(
                f"no contract at 0x{address.hex()} in block {consensus.height}", check="account"
            )
        if slot not in proven.storage:
            raise BadProof("the node proved other storage slots", check="slot")
        value = proven.storage[slot]
        claimed = int.from_bytes(proof.value, "big") if proof.value else 0
        if value != claimed:
            raise ValueMismatch(
                f"slot 0x{slot.hex()} holds {value}, not the claimed {claimed}",
                height=consensus.height,
            )

    def check_misbehaviour(
        self,
        client_state: object,
        header_a: HeaderUpdate,
        header_b: HeaderUpdate,
        *,
        trusted: object = None,
        now: int | None = None,
    ) -> bool:
        """True when both headers verify from ``trusted`` at one height with different hashes.

        An EVM header is only "valid" relative to a trusted state (its parent
        links and finality evidence lead back to one), so the caller passes the
        consensus state both headers' evidence starts from and the time, as
        ibc-go's keeper looks up the misbehaviour's trusted heights. Headers at
        different heights are not misbehaviour (False); an invalid header raises
        its ``VerificationError``; a frozen client raises ``ClientFrozen``.

        CONTRACT: on True the caller freezes the client (:func:`freeze_client`)
        and persists that.
        """
        if _client_state(client_state).is_frozen:
            raise ClientFrozen("the client is already frozen")
        if trusted is None or now is None:
            raise InvalidInput("EVM misbehaviour needs the trusted state and now (keywords)")
        if header_a.height != header_b.height:
            return False
        state_a = self.verify_header(client_state, trusted, header_a, now)
        state_b = self.verify_header(client_state, trusted, header_b, now)
        return state_a.hash != state_b.hash


def _client_state(value: object) -> EvmClientState:
    if not isinstance(value, EvmClientState):
        raise InvalidInput(f"client state must be an EvmClientState, not {type(value).__name__}")
    return value


def _consensus_state(value: object) -> EvmConsensusState:
    if not isinstance(value, EvmConsensusState):
        raise InvalidInput(
            f"consensus state must be an EvmConsensusState, not {type(value).__name__}"
        )
    return value


def _decode_envelope(header: HeaderUpdate) -> EvmHeader:
    decoded = decode_header(header.encoded)
    if decoded.number != header.height or decoded.timestamp != header.time:
        raise InvalidHeader(
            f"envelope says height {header.height} time {header.time}; the header says "
            f"{decoded.number} / {decoded.timestamp}",
            height=header.height,
            check="envelope",
        )
    return decoded
