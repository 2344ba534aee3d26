"""Who may sign a ChainMaker block: the configuration in force, its validators, and their keys.

A :class:`ChainTrust` is the part of a chain configuration a verifier needs:
the consensus nodes (node id and org), the org CA certificates (cert mode) or
pinned leaf certificates / public keys, the hash type and the height of the
configuration block it comes from. It is built from a trust file
(:func:`compute_chain_trust`) or from a configuration block's ``ChainConfig``
(:func:`compute_chain_trust_from_config`).

Signatures (:func:`verify_member_signature`): the key's curve decides the
scheme. ECDSA on P-256 signs ``SHA-256(m)`` or ``SM3(m)`` as the chain's hash
type says; SM2 signs ``SM3(Z || m)`` with the default user id
(:mod:`proofs.sm2`). Keys are read from certificates or PEM public keys with
``asn1crypto`` (OpenSSL through cryptography refuses the SM2 curve); P-256
verification and certificate parsing are pyca/cryptography.

Cert mode, without a pinned leaf: the signer's certificate must be issued by
a CA of the signer's org (name and signature, ECDSA-with-SHA256 or
SM2-with-SM3), valid at the block's time, and carry the ``consensus`` role
(its OU), as ChainMaker's policy for consensus nodes wants.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final

from asn1crypto import keys as asn1_keys
from asn1crypto import pem as asn1_pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import NameOID

from core.errors import InvalidInput
from proofs.chainmaker.encoding import get_hash_type
from proofs.chainmaker.errors import MalformedBlock, UntrustedIdentity
from proofs.chainmaker.pb import chainmaker_pb2 as pb
from proofs.hashing import HashFunction
from proofs.sm2 import (
    SM2_CURVE_OID,
    SM2_WITH_SM3_OID,
    SM2KeyInvalid,
    decode_sm2_public_key,
    is_valid_sm2_signature,
)

P256_OID: Final = "1.2.840.10045.3.1.7"
CONSENSUS_ROLE: Final = "consensus"
MEMBER_CERT: Final = pb.CERT
MEMBER_PUBLIC_KEY: Final = pb.PUBLIC_KEY


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A signer's key: ``curve`` is ``"p256"`` or ``"sm2"``, ``point`` is ``04||x||y``."""

    curve: str
    point: bytes


@dataclass(frozen=True, slots=True)
class Validator:
    """A consensus node: its node id, its org and, optionally, its pinned identity.

    ``pinned`` is the DER of the leaf certificate (cert mode) or of the public
    key (public-key mode); ``None`` means "any consensus certificate of the
    org's CA", which binds the vote to the org only.
    """

    node_id: str
    org_id: str
    pinned: bytes | None = None


@dataclass(frozen=True, slots=True)
class ChainTrust:
    """The configuration in force from block ``config_height`` on."""

    chain_id: str
    config_height: int
    hash_type: str
    auth_type: str
    validators: tuple[Validator, ...]
    org_cas: Mapping[str, tuple[bytes, ...]] = field(default_factory=dict)

    @property
    def hash_fn(self) -> HashFunction:
        return get_hash_type(self.hash_type)

    @property
    def public_key_mode(self) -> bool:
        return self.auth_type.lower() == "public"

    def validator(self, node_id: str) -> Validator | None:
        for candidate in self.validators:
            if candidate.node_id == node_id:
                return candidate
        return None


# --- building a trust ------------------------------------------------------------------------


def _pem_or_der(data: str | bytes) -> bytes:
    raw = data.encode() if isinstance(data, str) else data
    if asn1_pem.detect(raw):
        _, _, raw = asn1_pem.unarmor(raw)
    return raw


def compute_chain_trust(doc: Mapping[str, Any]) -> ChainTrust:
    """A trust from its JSON form (``InvalidInput`` when malformed).

    ``{"chain_id", "config_height", "hash_type", "auth_type",
    "validators": [{"node_id", "org_id", "pinned_cert"|"pinned_public_key"?}],
    "org_cas": {org_id: [PEM, ...]}}``.
    """
    try:
        validators = tuple(
            Validator(
                node_id=str(v["node_id"]),
                org_id=str(v["org_id"]),
                pinned=_pinned(v),
            )
            for v in doc["validators"]
        )
        org_cas = {
            str(org): tuple(_pem_or_der(pem) for pem in pems)
            for org, pems in dict(doc.get("org_cas", {})).items()
        }
        trust = ChainTrust(
            chain_id=str(doc["chain_id"]),
            config_height=int(doc["config_height"]),
            hash_type=str(doc.get("hash_type", "SHA256")),
            auth_type=str(doc.get("auth_type", "permissionedwithcert")),
            validators=validators,
            org_cas=org_cas,
        )
    except (KeyError, TypeError, ValueError) as err:
        raise InvalidInput(f"malformed ChainMaker trust: {err}") from err
    _validate_trust(trust)
    return trust


def _pinned(entry: Mapping[str, Any]) -> bytes | None:
    for key in ("pinned_cert", "pinned_public_key"):
        if entry.get(key):
            return _pem_or_der(entry[key])
    return None


def _validate_trust(trust: ChainTrust) -> None:
    get_hash_type(trust.hash_type)
    if not trust.validators:
        raise InvalidInput("a ChainMaker trust needs at least one validator")
    ids = [v.node_id for v in trust.validators]
    if len(set(ids)) != len(ids):
        raise InvalidInput("a node id appears twice among the validators")


def compute_chain_trust_from_config(config: pb.ChainConfig, config_height: int) -> ChainTrust:
    """The trust a configuration block installs: its consensus nodes, trust roots and members.

    A trust member with a ``node_id`` and the consensus role pins that node's
    certificate; every other node is bound to its org's CAs.
    """
    pinned = {
        m.node_id: _pem_or_der(m.member_info)
        for m in config.trust_members
        if m.node_id and m.role.lower() == CONSENSUS_ROLE
    }
    validators = tuple(
        Validator(node_id=node_id, org_id=org.org_id, pinned=pinned.get(node_id))
        for org in config.consensus.nodes
        for node_id in org.node_id
    )
    org_cas = {
        root.org_id: tuple(_pem_or_der(pem) for pem in root.root) for root in config.trust_roots
    }
    trust = ChainTrust(
        chain_id=config.chain_id,
        config_height=config_height,
        hash_type=config.crypto.hash or "SHA256",
        auth_type=config.auth_type or "permissionedwithcert",
        validators=validators,
        org_cas=org_cas,
    )
    _validate_trust(trust)
    return trust


# --- keys and certificates -------------------------------------------------------------------


def _spki_key(info: asn1_keys.PublicKeyInfo) -> PublicKey:
    params = info["algorithm"]["parameters"]
    oid = params.chosen.dotted if params.name == "named" else None
    point = bytes(info["public_key"].native)
    if oid == P256_OID:
        # one encoding per key (uncompressed), so "one key per node id" cannot be dodged
        # by presenting the same key compressed; an off-curve point fails here
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        return PublicKey("p256", key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint))
    if oid == SM2_CURVE_OID:
        x, y = decode_sm2_public_key(point)
        return PublicKey("sm2", b"\x04" + x.to_bytes(32, "big") + y.to_bytes(32, "big"))
    raise MalformedBlock(f"unsupported key curve {oid}", check="key")


@lru_cache(maxsize=1024)
def load_certificate(data: bytes) -> tuple[x509.Certificate, PublicKey]:
    """A PEM or DER certificate and its key (``MalformedBlock`` when it does not decode)."""
    try:
        der = _pem_or_der(data)
        cert = x509.load_der_x509_certificate(der)
        parsed = asn1_x509.Certificate.load(der)
        info = parsed["tbs_certificate"]["subject_public_key_info"]
        key = _spki_key(info)
    except (ValueError, TypeError, KeyError, SM2KeyInvalid) as err:
        raise MalformedBlock("a certificate does not decode", check="certificate") from err
    return cert, key


@lru_cache(maxsize=1024)
def load_public_key(data: bytes) -> PublicKey:
    """A PEM or DER ``SubjectPublicKeyInfo`` (public-key mode)."""
    try:
        return _spki_key(asn1_keys.PublicKeyInfo.load(_pem_or_der(data), strict=True))
    except (ValueError, TypeError, KeyError, SM2KeyInvalid) as err:
        raise MalformedBlock("a public key does not decode", check="key") from err


def member_identity(member: pb.Member) -> tuple[bytes, PublicKey, x509.Certificate | None]:
    """``(DER identity, key, certificate or None)`` of a signer, cert or public-key mode."""
    if member.member_type == MEMBER_CERT:
        cert, key = load_certificate(bytes(member.member_info))
        return _pem_or_der(bytes(member.member_info)), key, cert
    if member.member_type == MEMBER_PUBLIC_KEY:
        key = load_public_key(bytes(member.member_info))
        return _pem_or_der(bytes(member.member_info)), key, None
    raise MalformedBlock(
        f"a consensus signer must be a certificate or a public key, not type {member.member_type}",
        check="member-type",
    )


@lru_cache(maxsize=1024)
def _issued_by(leaf_der: bytes, ca_der: bytes) -> bool:
    """Whether the CA's key signed the leaf and the names chain (cached: pure)."""
    leaf, _ = load_certificate(leaf_der)
    ca, ca_key = load_certificate(ca_der)
    if leaf.issuer != ca.subject:
        return False
    if leaf.signature_algorithm_oid.dotted_string == SM2_WITH_SM3_OID:
        return ca_key.curve == "sm2" and is_valid_sm2_signature(
            ca_key.point, leaf.tbs_certificate_bytes, leaf.signature
        )
    try:
        leaf.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def validate_certificate(
    cert_der: bytes, cert: x509.Certificate, org_id: str, trust: ChainTrust, time_s: int
) -> None:
    """A consensus certificate of ``org_id``: issued by its CA, valid at ``time_s``, role OU.

    Raises ``UntrustedIdentity`` with ``details["check"]`` one of ``cert-role``,
    ``cert-validity``, ``cert-chain``.
    """
    roles = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)]
    if CONSENSUS_ROLE not in [str(r).lower() for r in roles]:
        raise UntrustedIdentity(
            f"the certificate's role is {roles}, not consensus", check="cert-role"
        )
    when = dt.datetime.fromtimestamp(time_s, tz=dt.UTC)
    if not cert.not_valid_before_utc <= when <= cert.not_valid_after_utc:
        raise UntrustedIdentity(
            "the certificate is not valid at the block's time", check="cert-validity"
        )
    if not any(_issued_by(cert_der, ca) for ca in trust.org_cas.get(org_id, ())):
        raise UntrustedIdentity(
            f"the certificate is not issued by a CA of {org_id}", check="cert-chain"
        )


def verify_member_signature(
    key: PublicKey, message: bytes, signature: bytes, hash_fn: HashFunction
) -> bool:
    """Whether ``signature`` is ``key``'s on ``message``: ECDSA P-256 or SM2."""
    if key.curve == "sm2":
        return is_valid_sm2_signature(key.point, message, signature)
    try:
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key.point)
        if hash_fn.name == "sha256":
            public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            public.verify(signature, hash_fn(message), ec.ECDSA(utils.Prehashed(hashes.SM3())))
    except (InvalidSignature, ValueError):
        return False
    return True


def validate_identity(
    member: pb.Member,
    trust: ChainTrust,
    time_s: int,
    candidates: Sequence[Validator],
) -> tuple[PublicKey, bytes]:
    """The key of a consensus signer bound to one of ``candidates`` (same org, pin if any).

    Returns ``(key, identity DER)``. Raises ``UntrustedIdentity`` for a
    certificate outside the org's CAs; the caller decides what a binding
    failure means (``candidates`` empty: nobody matches).
    """
    identity, key, cert = member_identity(member)
    if any(c.pinned == identity for c in candidates):
        return key, identity
    if cert is None:
        raise UntrustedIdentity(
            "a public key signs only when pinned to a validator", check="unpinned-key"
        )
    validate_certificate(identity, cert, member.org_id, trust, time_s)
    return key, identity


def is_bound(member: pb.Member, identity: bytes, validator: Validator) -> bool:
    """Whether a signer is the identity bound to ``validator`` (org, and the pin if any)."""
    if member.org_id != validator.org_id:
        return False
    return validator.pinned is None or validator.pinned == identity
