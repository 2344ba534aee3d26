"""What the hub can ask a Pujiang chain to do, and how those transactions are built and signed.

A ``ChainAction`` of this family is one of:

``raw_tx``          ``{"tx": hex}``: a transaction signed elsewhere, posted as is.
``bridge_recv``     ``{"packet": hex, "certificate": hex, "nonce"?: int}``: deliver a
                    packet with the notary certificate, signed with the relayer key.
``bridge_timeout``  same payload: a non-delivery certificate refunds the sender.
``bridge_store_root`` ``{"statement": hex, "certificate": hex}``: store a certified batch
                    root (``codec.BatchStatement``); a stored root is refused again.
``bridge_recv_batch`` ``{"statement": hex, "members": hex}``: deliver members
                    (``rlp([codec.BatchMember, ...])``) of a stored DELIVERY root.
``bridge_refund_batch`` same payload: refund members of a stored NONDELIVERY or
                    ERROR_ACK root on their source.
``bridge_ack_batch`` same payload: clear members of a stored ACK root on their source.
``anchor``          ``{"digest": hex}``: record 32 bytes in the chain's state under the
                    relayer account (the hub's audit-log heads; ``devnet/modules/anchor.py``).

Payload values are ``0x`` hex strings (``bytes`` are accepted too) so the
relayer can journal an action as JSON before it is sent. A builder fills in
the idempotency key from the packet's identity; the chain itself rejects a
second ``bridge_recv`` of one ``(source_chain, sequence)``.

For crash safety, prefer ``PujiangAdapter.build_transaction`` + a ``raw_tx``:
the signed bytes are then journaled, and re-sending them is idempotent by hash.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import rlp

from adapters.signers import LocalSigner
from core.errors import BadEncoding, ConfigError, InvalidInput
from core.seams import Signer
from core.types import ChainAction
from proofs.hashing import SHA256, HashFunction
from proofs.pujiang import accounts
from proofs.pujiang.codec import (
    MAX_BATCH_MEMBERS,
    BatchStatement,
    Packet,
    TxBody,
    check_batch_members,
    compute_address,
    compute_tx_hash,
    decode_batch_members,
    decode_batch_statement,
    decode_certificate,
    decode_packet,
    decode_transaction,
    encode,
    encode_signed_tx,
    encode_tx_body,
    to_raw,
    tx_signing_message_of,
)
from proofs.rlp_lists import rlp_list_of_encoded, rlp_of

RAW_TX = "raw_tx"
BRIDGE_RECV = "bridge_recv"
BRIDGE_TIMEOUT = "bridge_timeout"
BRIDGE_STORE_ROOT = "bridge_store_root"
BRIDGE_RECV_BATCH = "bridge_recv_batch"
BRIDGE_REFUND_BATCH = "bridge_refund_batch"
BRIDGE_ACK_BATCH = "bridge_ack_batch"
BATCH_KINDS = (BRIDGE_RECV_BATCH, BRIDGE_REFUND_BATCH, BRIDGE_ACK_BATCH)
HTLC_CLAIM = "htlc_claim"  # {"htlc_id": hex, "preimage": hex}: pays the HTLC's receiver
HTLC_REFUND = "htlc_refund"  # {"htlc_id": hex}: pays the HTLC's sender back
ANCHOR = "anchor"  # {"digest": hex}: 32 bytes recorded under the signer (audit anchors)
NOTARY_ROTATE = "notary_rotate"  # {"epoch", "threshold", "members": [hex], "certificate": hex}
SIGNED_KINDS = (
    BRIDGE_RECV,
    BRIDGE_TIMEOUT,
    HTLC_CLAIM,
    HTLC_REFUND,
    BRIDGE_STORE_ROOT,
    *BATCH_KINDS,
    ANCHOR,
    NOTARY_ROTATE,
)
ACTION_KINDS = (RAW_TX, *SIGNED_KINDS)


class TxSigner:
    """An account key of the chain's scheme behind the signer seam (``core.seams.Signer``):
    Ed25519 (RFC 8032) on a standard chain, SM2 on a ``gm`` one (``proofs.pujiang.accounts``).
    Built from a signer (a keystore file's, ``relayer_signer``) or, for development, a
    32-byte seed (``relayer_key``). The key never appears in a repr or a log."""

    __slots__ = ("_signer", "pubkey", "scheme")

    def __init__(self, seed: bytes | Signer, scheme: str = accounts.ED25519) -> None:
        if scheme not in accounts.ACCOUNT_SCHEMES:
            raise ConfigError(f"unknown account scheme {scheme!r}")
        if isinstance(seed, bytes):
            if len(seed) != 32:
                raise ConfigError("an account seed is 32 bytes")
            try:
                seed = LocalSigner(seed, scheme, label="relayer_key")
            except InvalidInput as err:
                raise ConfigError(err.message) from None
        if seed.scheme != scheme:
            raise ConfigError(f"the relayer signer signs {seed.scheme}, the chain wants {scheme}")
        self._signer = seed
        self.scheme = scheme
        self.pubkey = seed.public_key

    def address(self, hash_fn: HashFunction = SHA256) -> bytes:
        return compute_address(self.pubkey, hash_fn)

    def sign(self, body: TxBody) -> bytes:
        """The encoded transaction ``rlp([body, pubkey, signature])`` (Ed25519 and SM2 sign
        the message itself: the seam's ``sign_digest`` takes it whole)."""
        return self.sign_body_rlp(rlp.encode(body))

    def sign_body_rlp(self, body_rlp: bytes) -> bytes:
        """:meth:`sign` of the body whose RLP is ``body_rlp`` (``codec.encode_tx_body``)."""
        signature = self._signer.sign_digest(tx_signing_message_of(body_rlp))
        return encode_signed_tx(body_rlp, self.pubkey, signature)

    def __repr__(self) -> str:
        return f"TxSigner({self.scheme}, pubkey=0x{self.pubkey.hex()})"


def build_signed_tx(signer: TxSigner, chain_id: str, nonce: int, kind: str, args: object) -> bytes:
    """Sign ``rlp([chain_id, nonce, kind, args])``; ``args`` as ``codec.to_raw`` takes them."""
    return build_signed_tx_rlp(signer, chain_id, nonce, kind, rlp_of(to_raw(args)))  # type: ignore[arg-type]


def build_signed_tx_rlp(
    signer: TxSigner, chain_id: str, nonce: int, kind: str, args_rlp: bytes
) -> bytes:
    """:func:`build_signed_tx` with ``args`` already encoded (canonical RLP of a list)."""
    body = encode_tx_body(chain_id.encode(), nonce, kind.encode(), args_rlp)
    return signer.sign_body_rlp(body)


def tx_hash_of(tx: bytes, hash_fn: HashFunction = SHA256) -> bytes:
    """``H(tx)``, after checking the bytes are a well-formed transaction."""
    return compute_tx_hash(decode_transaction(tx), hash_fn)


# --- action builders (what the relayer creates) -----------------------------------------


def raw_tx_action(
    tx: bytes, *, idempotency_key: str | None = None, hash_fn: HashFunction = SHA256
) -> ChainAction:
    """Post a transaction signed elsewhere; its hash (the chain's ``hash_fn``) is its key."""
    try:
        key = idempotency_key or "tx:0x" + tx_hash_of(tx, hash_fn).hex()
    except BadEncoding as err:
        raise InvalidInput(f"raw_tx: {err.message}") from err
    return ChainAction(RAW_TX, {"tx": "0x" + tx.hex()}, key)


def bridge_recv_action(
    packet: bytes | Packet,
    certificate: bytes,
    *,
    nonce: int | None = None,
    idempotency_key: str | None = None,
) -> ChainAction:
    """Deliver ``packet`` with its notary ``certificate`` (signed with the relayer key)."""
    return _packet_action(BRIDGE_RECV, packet, certificate, nonce, idempotency_key)


def bridge_timeout_action(
    packet: bytes | Packet,
    certificate: bytes,
    *,
    nonce: int | None = None,
    idempotency_key: str | None = None,
) -> ChainAction:
    """Refund an undelivered ``packet`` on its source with a non-delivery ``certificate``."""
    return _packet_action(BRIDGE_TIMEOUT, packet, certificate, nonce, idempotency_key)


def _packet_action(
    kind: str,
    packet: bytes | Packet,
    certificate: bytes,
    nonce: int | None,
    idempotency_key: str | None,
) -> ChainAction:
    encoded = encode(packet) if isinstance(packet, Packet) else bytes(packet)
    try:
        decoded = decode_packet(encoded)
        decode_certificate(bytes(certificate))
    except BadEncoding as err:
        raise InvalidInput(f"{kind}: {err.message}") from err
    payload: dict[str, object] = {
        "packet": "0x" + encoded.hex(),
        "certificate": "0x" + bytes(certificate).hex(),
    }
    if nonce is not None:
        payload["nonce"] = nonce
    source = decoded.source_chain.decode(errors="replace")
    dest = decoded.dest_chain.decode(errors="replace")
    key = idempotency_key or f"{kind}:{source}/{dest}/{decoded.sequence}"
    return ChainAction(kind, payload, key)


def store_root_action(
    statement: BatchStatement, certificate: bytes, *, idempotency_key: str
) -> ChainAction:
    """Store a certified batch root (``bridge_store_root``)."""
    try:
        decode_certificate(bytes(certificate))
    except BadEncoding as err:
        raise InvalidInput(f"{BRIDGE_STORE_ROOT}: {err.message}") from err
    payload = {
        "statement": "0x" + encode(statement).hex(),
        "certificate": "0x" + bytes(certificate).hex(),
    }
    return ChainAction(BRIDGE_STORE_ROOT, payload, idempotency_key)


def notary_rotate_action(
    epoch: int,
    threshold: int,
    members: list[bytes],
    certificate: bytes,
    *,
    idempotency_key: str,
) -> ChainAction:
    """Hand the bridge module to the committee of ``epoch`` (``notary_rotate``)."""
    try:
        decode_certificate(bytes(certificate))
    except BadEncoding as err:
        raise InvalidInput(f"{NOTARY_ROTATE}: {err.message}") from err
    payload = {
        "epoch": epoch,
        "threshold": threshold,
        "members": ["0x" + bytes(m).hex() for m in members],
        "certificate": "0x" + bytes(certificate).hex(),
    }
    return ChainAction(NOTARY_ROTATE, payload, idempotency_key)


def batch_members_action(
    kind: str, statement: BatchStatement, members: Sequence[bytes], *, idempotency_key: str
) -> ChainAction:
    """Act on members of a stored root: one of ``BATCH_KINDS``; ``members`` are each the
    RLP of a ``BatchMember`` (``codec.batch_member_rlp``, or ``codec.encode`` of one)."""
    if kind not in BATCH_KINDS:
        raise InvalidInput(f"{kind!r} is not a batch action ({', '.join(BATCH_KINDS)})")
    if len(members) > MAX_BATCH_MEMBERS:
        raise InvalidInput(f"a batch action holds at most {MAX_BATCH_MEMBERS} members")
    payload = {
        "statement": "0x" + encode(statement).hex(),
        "members": "0x" + rlp_list_of_encoded(members).hex(),
    }
    return ChainAction(kind, payload, idempotency_key)


# --- reading payloads (what the adapter receives) ---------------------------------------


def payload_bytes(payload: Mapping[str, object], name: str) -> bytes:
    """A payload field as bytes: ``bytes`` or ``0x`` hex; ``InvalidInput`` otherwise."""
    value = payload.get(name)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise InvalidInput(f"action payload field {name!r} must be bytes or 0x-hex", field=name)


def payload_nonce(payload: Mapping[str, object]) -> int | None:
    value = payload.get("nonce")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("action payload field 'nonce' must be a non-negative int")
    return value


def tx_args(kind: str, payload: Mapping[str, object]) -> list[object]:
    """The transaction args of a signed kind (``SIGNED_KINDS``) from its payload."""
    if kind == HTLC_CLAIM:
        return [payload_bytes(payload, "htlc_id"), payload_bytes(payload, "preimage")]
    if kind == HTLC_REFUND:
        return [payload_bytes(payload, "htlc_id")]
    if kind == BRIDGE_STORE_ROOT or kind in BATCH_KINDS:
        return batch_tx_args(kind, payload)
    if kind == NOTARY_ROTATE:
        return rotate_tx_args(payload)
    if kind == ANCHOR:
        digest = payload_bytes(payload, "digest")
        if len(digest) != 32:
            raise InvalidInput("an anchored digest is 32 bytes", field="digest")
        return [digest]
    return packet_tx_args(payload)


def rotate_tx_args(payload: Mapping[str, object]) -> list[object]:
    """``[epoch, threshold, [member, ...], certificate]`` of ``notary_rotate``."""
    epoch, threshold, members = (
        payload.get("epoch"),
        payload.get("threshold"),
        payload.get("members"),
    )
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (epoch, threshold)):
        raise InvalidInput("notary_rotate needs integer 'epoch' and 'threshold'")
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise InvalidInput("notary_rotate needs 'members', a list of 0x addresses")
    try:
        addresses = [bytes.fromhex(m.removeprefix("0x")) for m in members]
        certificate = decode_certificate(payload_bytes(payload, "certificate"))
    except (ValueError, BadEncoding) as err:
        raise InvalidInput("notary_rotate payload does not decode") from err
    return [epoch, threshold, addresses, certificate]


def tx_args_rlp(kind: str, payload: Mapping[str, object]) -> bytes:
    """The RLP of :func:`tx_args` ``(kind, payload)``, the bytes ``build_signed_tx`` signs.

    A batch action's statement and members are checked by a strict decode (the members by
    ``codec.check_batch_members``, which decides as their sedes), then spliced in as they
    came (a strict decode accepts only canonical RLP, which is what encoding the decoded
    objects again would give): the members of a batch of 256 are not re-encoded
    (issue #15; ``tests/adapters/test_pujiang_tx_assembly.py`` holds both paths equal)."""
    if kind in BATCH_KINDS:
        statement = payload_bytes(payload, "statement")
        members = payload_bytes(payload, "members")
        try:
            decode_batch_statement(statement)
            check_batch_members(members)
        except BadEncoding as err:
            raise InvalidInput(f"action payload does not decode: {err.message}") from err
        return rlp_list_of_encoded([statement, members])
    return rlp_of(to_raw(tx_args(kind, payload)))  # type: ignore[arg-type]


def batch_tx_args(kind: str, payload: Mapping[str, object]) -> list[object]:
    """``[statement, certificate]`` of ``bridge_store_root`` or ``[statement, [member, ...]]``
    of a batch action, decoded (nested RLP lists inside the transaction)."""
    statement = payload_bytes(payload, "statement")
    try:
        decoded = decode_batch_statement(statement)
        if kind == BRIDGE_STORE_ROOT:
            return [decoded, decode_certificate(payload_bytes(payload, "certificate"))]
        return [decoded, decode_batch_members(payload_bytes(payload, "members"))]
    except BadEncoding as err:
        raise InvalidInput(f"action payload does not decode: {err.message}") from err


def packet_tx_args(payload: Mapping[str, object]) -> list[object]:
    """``[packet, certificate]`` args of ``bridge_recv`` / ``bridge_timeout``, decoded.

    Both travel as nested RLP lists inside the transaction, as
    ``docs/pujiang-chain.md`` nests them (not as byte strings of their encoding).
    """
    packet = payload_bytes(payload, "packet")
    certificate = payload_bytes(payload, "certificate")
    try:
        return [decode_packet(packet), decode_certificate(certificate)]
    except BadEncoding as err:
        raise InvalidInput(f"action payload does not decode: {err.message}") from err
