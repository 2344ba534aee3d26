"""Transaction admission: what a node checks before a transaction may enter a block.

``check_tx`` is the stateless part (size, canonical RLP, chain id, known kind,
account signature: Ed25519, or SM2 on a ``gm`` chain), done once when a
transaction is submitted; the nonce is checked against the account at
submission and again at execution. A rejection is a ``TxRejected`` whose
``reason`` (``"<code>: <message>"``) is what a receipt shows; the codes are stable
(``Reason``) so clients can switch on them.

Every rejection a transaction can meet, here or in ``devnet.modules``, is one
of ``Reason``; ``core_error`` maps each to the error of ``core.errors`` the
HTTP API answers with when it refuses a submission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey

from core.errors import BadEncoding, BadSignature, Conflict, InvalidInput, PjgwError
from proofs.hashing import HashFunction
from proofs.pujiang import accounts, codec

MAX_TX_BYTES = 64 * 1024


class Reason(StrEnum):
    """Stable codes of rejected transactions (the part of a receipt's reason before ``:``)."""

    TOO_LARGE = "too-large"
    BAD_ENCODING = "bad-encoding"
    WRONG_CHAIN = "wrong-chain"
    UNKNOWN_KIND = "unknown-kind"
    BAD_SIGNATURE = "bad-signature"
    WRONG_NONCE = "wrong-nonce"
    BAD_ARGS = "bad-args"
    INSUFFICIENT_FUNDS = "insufficient-funds"
    WRONG_DESTINATION = "wrong-destination"
    BAD_CERTIFICATE = "bad-certificate"
    REPLAYED_PACKET = "replayed-packet"
    PACKET_TIMED_OUT = "packet-timed-out"
    NOT_TIMED_OUT = "not-timed-out"
    UNKNOWN_PACKET = "unknown-packet"
    ESCROW_SHORT = "escrow-short"
    HTLC_NOT_FOUND = "htlc-not-found"
    HTLC_EXISTS = "htlc-exists"
    HTLC_CLOSED = "htlc-closed"
    HTLC_EXPIRED = "htlc-expired"
    HTLC_NOT_EXPIRED = "htlc-not-expired"
    WRONG_PREIMAGE = "wrong-preimage"
    WRONG_EPOCH = "wrong-epoch"
    ROOT_STORED = "root-stored"
    ROOT_UNKNOWN = "root-unknown"
    NOT_IN_ROOT = "not-in-root"
    BATCH_KIND = "batch-kind"
    BATCH_ROUTE = "batch-route"
    VALSET_PENDING = "valset-pending"
    BAD_VALIDATOR_SET = "bad-validator-set"
    UNKNOWN_VALIDATOR_KEY = "unknown-validator-key"
    INSUFFICIENT_POWER = "insufficient-power"
    INTERNAL_ERROR = "internal-error"


class TxRejected(Exception):
    """A transaction refused at admission or failed at execution."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(f"{reason.value}: {message}")
        self.reason = reason
        self.message = message

    @property
    def text(self) -> str:
        return f"{self.reason.value}: {self.message}"


_CORE_ERRORS: dict[Reason, type[PjgwError]] = {
    Reason.BAD_ENCODING: BadEncoding,
    Reason.BAD_SIGNATURE: BadSignature,
    Reason.WRONG_NONCE: Conflict,
}


def core_error(rejection: TxRejected) -> PjgwError:
    """The API error for a refused submission (``reason`` kept in its details)."""
    cls = _CORE_ERRORS.get(rejection.reason, InvalidInput)
    return cls(rejection.text, reason=rejection.reason.value)


@dataclass(frozen=True)
class CheckedTx:
    """A transaction that passed the stateless checks, decoded once."""

    raw: bytes
    hash: bytes
    sender: bytes
    nonce: int
    kind: str
    args: object
    size: int = field(default=0)


KINDS = frozenset(
    {
        "transfer",
        "bridge_send",
        "bridge_send_message",
        "bridge_recv",
        "bridge_timeout",
        "bridge_store_root",
        "bridge_recv_batch",
        "bridge_refund_batch",
        "bridge_ack_batch",
        "htlc_lock",
        "htlc_claim",
        "htlc_refund",
        "validator_update",
    }
)


def check_tx(
    raw: bytes, chain_id: bytes, hash_fn: HashFunction, scheme: str = accounts.ED25519
) -> CheckedTx:
    """Size, canonical decoding, chain id, kind, then the signature (the costly check last).

    ``scheme`` is the chain's account scheme (its genesis): a key of the other
    scheme is a bad signature, never a second way in.
    """
    if len(raw) > MAX_TX_BYTES:
        raise TxRejected(Reason.TOO_LARGE, f"{len(raw)} bytes, at most {MAX_TX_BYTES}")
    try:
        tx = codec.decode_transaction(raw)
    except BadEncoding as err:
        raise TxRejected(Reason.BAD_ENCODING, err.message) from err
    body = tx.body
    if body.chain_id != chain_id:
        raise TxRejected(
            Reason.WRONG_CHAIN,
            f"signed for chain {body.chain_id!r}, this is {chain_id.decode()!r}",
        )
    kind = body.kind.decode("ascii", "replace")
    if kind not in KINDS:
        raise TxRejected(Reason.UNKNOWN_KIND, f"no transaction kind {kind!r}")
    args = _as_lists(body.args)
    if not isinstance(args, list):
        raise TxRejected(Reason.BAD_ARGS, "args must be an RLP list")
    message = codec.compute_tx_signing_message(body)
    if scheme == accounts.SM2:
        if not accounts.is_valid_sm2_tx_signature(tx.pubkey, message, tx.signature):
            raise TxRejected(Reason.BAD_SIGNATURE, "SM2 signature does not verify")
    else:
        try:
            VerifyKey(tx.pubkey).verify(message, tx.signature)
        except (BadSignatureError, ValueError) as err:
            raise TxRejected(Reason.BAD_SIGNATURE, "Ed25519 signature does not verify") from err
    return CheckedTx(
        raw=raw,
        hash=hash_fn(raw),
        sender=codec.compute_address(tx.pubkey, hash_fn),
        nonce=body.nonce,
        kind=kind,
        args=args,
        size=len(raw),
    )


def _as_lists(item: object) -> object:
    """``rlp`` hands a Serializable's raw field back as tuples; handlers read lists."""
    if isinstance(item, tuple | list):
        return [_as_lists(x) for x in item]
    return item
