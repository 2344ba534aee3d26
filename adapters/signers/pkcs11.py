"""Keys inside a PKCS#11 token (an HSM; SoftHSM2 in the tests), through python-pkcs11.

The key is generated inside the token and never leaves it (``CKA_SENSITIVE``,
not ``CKA_EXTRACTABLE``); the hub keeps only the token's label, the key's
label and where the PIN is. A digest is signed with ``CKM_ECDSA`` (the token
returns raw ``r ‖ s``), then ``ecdsa_form.recoverable`` normalises ``s`` and
finds ``v`` against the token's public key (``CKA_EC_POINT``).

One session per signer, opened at first use and kept (a login costs more than
a signature); a lock serialises signatures because a PKCS#11 session is not
thread-safe. A closed or broken session is reopened once.

SECURITY: the PIN is read from its source when the session opens and not kept
in a repr; errors name the token and key labels, never the PIN.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from typing import Any

import pkcs11
from asn1crypto.core import OctetString
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.util.ec import encode_named_curve_parameters

from adapters.signers.ecdsa_form import recoverable
from core.errors import ConfigError, InvalidInput
from core.seams import P256, SECP256K1

CURVES = {SECP256K1: "secp256k1", P256: "secp256r1"}


@dataclass(frozen=True, slots=True)
class TokenKey:
    """Where a key lives: the PKCS#11 module, the token's label, the key's label."""

    module: str
    token: str
    label: str
    pin: str = field(repr=False)


class Pkcs11Signer:
    """A ``core.seams.Signer`` whose key stays in a PKCS#11 token."""

    def __init__(self, where: TokenKey, scheme: str = SECP256K1) -> None:
        if scheme not in CURVES:
            raise InvalidInput(f"PKCS#11 signers sign {' or '.join(CURVES)}, not {scheme!r}")
        self.scheme = scheme
        self.label = f"pkcs11:{where.token}/{where.label}"
        self._where = where
        self._lock = threading.Lock()
        self._session: Any = None
        self._private: Any = None
        with self._lock:
            self._public = self._open()

    @property
    def public_key(self) -> bytes:
        return self._public

    def sign_digest(self, digest: bytes) -> bytes:
        if len(digest) != 32:
            raise InvalidInput("a digest is 32 bytes", field="digest")
        with self._lock:
            try:
                raw = self._private.sign(digest, mechanism=Mechanism.ECDSA)
            except pkcs11.PKCS11Error:  # a session lost (token reset): reopen once
                self._open()
                try:
                    raw = self._private.sign(digest, mechanism=Mechanism.ECDSA)
                except pkcs11.PKCS11Error as err:
                    raise ConfigError(f"{self.label}: the token refused to sign") from err
        half = len(raw) // 2
        r, s = int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        return recoverable(self.scheme, digest, r, s, self._public)

    def close(self) -> None:
        with self._lock:
            self.close_quietly()

    def __repr__(self) -> str:
        return f"Pkcs11Signer({self.scheme}, {self.label})"

    def _open(self) -> bytes:
        where = self._where
        self.close_quietly()
        try:
            token = pkcs11.lib(where.module).get_token(token_label=where.token)
            session = _session(token, where.pin)
        except (pkcs11.PKCS11Error, RuntimeError, OSError) as err:
            raise ConfigError(
                f"PKCS#11 token {where.token!r} (module {where.module}) does not open: "
                f"{type(err).__name__}"
            ) from None
        try:
            private = session.get_key(
                object_class=ObjectClass.PRIVATE_KEY, key_type=KeyType.EC, label=where.label
            )
            public = session.get_key(
                object_class=ObjectClass.PUBLIC_KEY, key_type=KeyType.EC, label=where.label
            )
            point = _ec_point(public[Attribute.EC_POINT])
            params = public[Attribute.EC_PARAMS]
        except (pkcs11.PKCS11Error, ValueError) as err:
            session.close()
            raise ConfigError(
                f"PKCS#11 token {where.token!r} holds no EC key pair labelled {where.label!r}: "
                f"{type(err).__name__}"
            ) from None
        if params != encode_named_curve_parameters(CURVES[self.scheme]):
            session.close()
            raise ConfigError(f"{self.label} is not a {self.scheme} key")
        self._session, self._private = session, private
        return point

    def close_quietly(self) -> None:
        if self._session is not None:
            with contextlib.suppress(pkcs11.PKCS11Error):
                self._session.close()
            self._session = None


def generate_key(where: TokenKey, scheme: str = SECP256K1) -> bytes:
    """Generate a key pair of ``scheme`` INSIDE the token (sensitive, never extractable);
    returns its public key (SEC1 uncompressed). ``ConfigError`` when the label is taken."""
    if scheme not in CURVES:
        raise InvalidInput(f"PKCS#11 signers sign {' or '.join(CURVES)}, not {scheme!r}")
    try:
        token = pkcs11.lib(where.module).get_token(token_label=where.token)
        opened = _session(token, where.pin, rw=True)
    except (pkcs11.PKCS11Error, RuntimeError, OSError) as err:
        raise ConfigError(
            f"PKCS#11 token {where.token!r} (module {where.module}) does not open: "
            f"{type(err).__name__}"
        ) from None
    with opened as session:
        taken = list(session.get_objects({Attribute.LABEL: where.label}))
        if taken:
            raise ConfigError(f"PKCS#11 token {where.token!r} already holds {where.label!r}")
        params = session.create_domain_parameters(
            KeyType.EC,
            {Attribute.EC_PARAMS: encode_named_curve_parameters(CURVES[scheme])},
            local=True,
        )
        public, _private = params.generate_keypair(
            store=True,
            label=where.label,
            private_template={Attribute.SENSITIVE: True, Attribute.EXTRACTABLE: False},
        )
        return _ec_point(public[Attribute.EC_POINT])


def _session(token: Any, pin: str, *, rw: bool = False) -> Any:
    """A session, logged in: PKCS#11 logs in per application, so when another session of
    this process is logged in already a new one shares that login."""
    try:
        return token.open(user_pin=pin, rw=rw)
    except pkcs11.UserAlreadyLoggedIn:
        return token.open(rw=rw)


def _ec_point(value: bytes) -> bytes:
    """``CKA_EC_POINT`` is a DER OCTET STRING holding the SEC1 point (some tokens: raw)."""
    if len(value) == 65 and value[0] == 4:
        return bytes(value)
    point = OctetString.load(bytes(value)).native
    if not isinstance(point, bytes) or len(point) != 65 or point[0] != 4:
        raise ValueError("CKA_EC_POINT is not an uncompressed point")
    return point


__all__ = ["CURVES", "Pkcs11Signer", "TokenKey", "generate_key"]
