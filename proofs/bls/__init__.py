"""BLS12-381 signatures: the one facade every verifier of the hub calls.

Ciphersuite ``BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`` (IETF
draft-irtf-cfrg-bls-signature-04, proof-of-possession scheme, as Ethereum uses it):
public keys are compressed G1 points (48 bytes), signatures compressed G2 points
(96 bytes), secret keys ``int`` in 1 … r-1. Proofs of possession use the tag
``BLS_POP_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_``.

Conventions, so callers know what to expect without reading the body:

* ``verify``, ``fast_aggregate_verify``, ``aggregate_verify``, ``batch_verify``,
  ``pop_verify``, ``key_validate`` and ``is_*`` return ``False`` on any malformed
  input and never raise (py_ecc's convention).
* ``validate_*`` raise the first failed check's typed error from :mod:`core.errors`
  (``BadEncoding``, ``InfinityPoint``, ``NotInSubgroup``, ``BadSignature``;
  ``InvalidInput`` for an empty key list or a bad signer set), so the API can say why.
  ``validate_X`` raises exactly when ``X`` returns ``False``.
* ``sign``, ``aggregate``, ``aggregate_pubkeys``, ``keygen`` raise ``InvalidInput`` or
  ``BadEncoding`` on bad input.

Backends: ``py_ecc`` (reference, pure Python, always installed), ``milagro`` (alias
``fast``: milagro-bls-binding, helped by py_arkworks_bls12381 when installed, see
:mod:`proofs.bls._milagro`) and ``auto`` (the fast one when importable, else
py_ecc). The default comes from ``PJGW_BLS_BACKEND`` (else ``auto``) on first use;
:func:`use_backend` changes it and every function takes ``backend=`` for one call.
Every backend gives the same answers (held to the eth-bls12-381 vectors), and the
*reason* of a rejection is always worked out by the reference backend, so it does not
depend on the backend either.

Hand-written here: only policy glue (types and lengths, empty-list rules, the
canonical identity encodings, the secret-key range, KeyGen's seed length) and the
validator-set bookkeeping (signer bitmaps, an LRU of subset aggregates). No curve
arithmetic: that is py_ecc's, milagro's or arkworks'.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

from core.errors import (
    BadEncoding,
    BadSignature,
    ConfigError,
    InfinityPoint,
    InvalidInput,
    VerificationError,
)

from . import _py_ecc as _ref

__all__ = [
    "BACKEND_ENV_VAR",
    "CURVE_ORDER",
    "INFINITY_PUBKEY",
    "INFINITY_SIGNATURE",
    "MIN_SEED_LENGTH",
    "POP_DST",
    "PUBKEY_LENGTH",
    "SECRET_KEY_LENGTH",
    "SIGNATURE_LENGTH",
    "SIG_DST",
    "AggregateKeyCache",
    "Backend",
    "SignatureSet",
    "ValidatorSetKeys",
    "aggregate",
    "aggregate_pubkeys",
    "aggregate_verify",
    "batch_verify",
    "current_backend",
    "eip2537_g1",
    "eip2537_g2",
    "fast_aggregate_verify",
    "get_backend",
    "hash_to_g2",
    "is_valid_pubkey",
    "is_valid_signature",
    "key_validate",
    "keygen",
    "pop_prove",
    "pop_verify",
    "secret_key_from_bytes",
    "secret_key_to_bytes",
    "sign",
    "sk_to_pk",
    "use_backend",
    "validate_aggregate_verify",
    "validate_fast_aggregate_verify",
    "validate_pop",
    "validate_pubkey",
    "validate_signature",
    "validate_verify",
    "verify",
]

PUBKEY_LENGTH = 48
SIGNATURE_LENGTH = 96
SECRET_KEY_LENGTH = 32
MIN_SEED_LENGTH = 32
"""KeyGen refuses shorter seeds: the IETF draft requires at least 32 bytes of entropy."""

SIG_DST = _ref.SIG_DST
POP_DST = _ref.POP_DST
CURVE_ORDER = _ref.CURVE_ORDER

INFINITY_PUBKEY = b"\xc0" + bytes(PUBKEY_LENGTH - 1)
"""The only valid encoding of the G1 identity (never a valid public key)."""
INFINITY_SIGNATURE = b"\xc0" + bytes(SIGNATURE_LENGTH - 1)
"""The only valid encoding of the G2 identity."""

BACKEND_ENV_VAR = "PJGW_BLS_BACKEND"

Affine2 = tuple[tuple[int, int], tuple[int, int]]


class Backend(Protocol):
    """What a backend module provides; inputs arrive already sized by the facade."""

    name: str
    is_fast: bool

    def sk_to_pk(self, secret_key: int) -> bytes: ...
    def sign(self, secret_key: int, message: bytes) -> bytes: ...
    def verify(self, pubkey: bytes, message: bytes, signature: bytes) -> bool: ...
    def aggregate(self, signatures: Sequence[bytes]) -> bytes: ...
    def aggregate_pubkeys(self, pubkeys: Sequence[bytes]) -> bytes: ...
    def fast_aggregate_verify(
        self, pubkeys: Sequence[bytes], message: bytes, signature: bytes
    ) -> bool: ...
    def aggregate_verify(
        self, pubkeys: Sequence[bytes], messages: Sequence[bytes], signature: bytes
    ) -> bool: ...
    def batch_verify(self, sets: Sequence[tuple[bytes, bytes, bytes]]) -> bool: ...
    def pop_prove(self, secret_key: int) -> bytes: ...
    def pop_verify(self, pubkey: bytes, proof: bytes) -> bool: ...
    def is_g1(self, data: bytes) -> bool:
        """Canonical encoding of a G1 point in the subgroup (identity handled by caller)."""
        ...

    def is_g2(self, data: bytes) -> bool: ...
    def hash_to_g2(self, message: bytes, dst: bytes) -> Affine2: ...
    def prepare_pubkey(self, pubkey: bytes) -> object: ...
    def aggregate_prepared(self, prepared: Sequence[object]) -> object: ...
    def prepared_to_bytes(self, aggregate: object) -> bytes: ...
    def verify_prepared(self, aggregate: object, message: bytes, signature: bytes) -> bool: ...


class SignatureSet(NamedTuple):
    """One (public key, message, signature) triple of a batch."""

    pubkey: bytes
    message: bytes
    signature: bytes


# --- backend selection -------------------------------------------------------------

_default: Backend | None = None


def _load_fast() -> Backend:
    try:
        module = importlib.import_module("proofs.bls._milagro")
    except ImportError as err:
        raise ConfigError(
            "BLS backend 'milagro' needs milagro-bls-binding, which is not installed: "
            "pip install 'pujiang-gateway[fast]', or choose 'py_ecc' or 'auto'",
            backend="milagro",
        ) from err
    backend: Backend = module.MilagroBackend()
    return backend


def get_backend(name: str | None = None) -> Backend:
    """The backend called ``name`` (auto, py_ecc, milagro or fast); ``None``: the default.

    Raises ``ConfigError`` for an unknown name, or for milagro/fast when it is not
    installed (``auto`` falls back to py_ecc instead).
    """
    if name is None:
        return current_backend()
    key = name.strip().lower().replace("-", "_")
    if key in ("py_ecc", "pyecc", "reference"):
        return _ref.PyEccBackend()
    if key in ("milagro", "fast"):
        return _load_fast()
    if key == "auto":
        try:
            return _load_fast()
        except ConfigError:
            return _ref.PyEccBackend()
    raise ConfigError(
        f"unknown BLS backend {name!r}: choose auto, py_ecc or milagro (alias fast)",
        backend=name,
    )


def use_backend(name: str | None = None) -> Backend:
    """Make ``name`` the default backend; ``None`` re-reads ``PJGW_BLS_BACKEND``."""
    global _default
    chosen = os.environ.get(BACKEND_ENV_VAR, "") if name is None else name
    _default = get_backend(chosen or "auto")
    return _default


def current_backend() -> Backend:
    """The default backend, chosen from ``PJGW_BLS_BACKEND`` on first use."""
    return _default if _default is not None else use_backend()


def _resolve(backend: Backend | str | None) -> Backend:
    if backend is None:
        return current_backend()
    if isinstance(backend, str):
        return get_backend(backend)
    return backend


# --- input shapes ------------------------------------------------------------------


def _as_bytes(data: object) -> bytes | None:
    if isinstance(data, bytes):
        return data
    if isinstance(data, bytearray | memoryview):
        return bytes(data)
    return None


def _sized(data: object, length: int) -> bytes | None:
    raw = _as_bytes(data)
    return raw if raw is not None and len(raw) == length else None


def _sized_all(items: object, length: int) -> list[bytes] | None:
    if _as_bytes(items) is not None or not isinstance(items, Iterable):
        return None
    out = [_sized(item, length) for item in items]
    return None if any(item is None for item in out) else out  # type: ignore[misc]


def _messages(items: object) -> list[bytes] | None:
    if _as_bytes(items) is not None or not isinstance(items, Iterable):
        return None
    out = [_as_bytes(item) for item in items]
    return None if any(item is None for item in out) else out  # type: ignore[misc]


def _encoded(data: object, length: int, what: str, **details: object) -> bytes:
    raw = _as_bytes(data)
    if raw is None:
        raise BadEncoding(f"{what} must be bytes, not {type(data).__name__}", **details)
    if len(raw) != length:
        raise BadEncoding(f"{what} must be {length} bytes, got {len(raw)}", **details)
    return raw


def _message(message: object) -> bytes:
    raw = _as_bytes(message)
    if raw is None:
        raise InvalidInput(f"message must be bytes, not {type(message).__name__}")
    return raw


def _explained(
    fault: VerificationError | None, what: str, backend: Backend, **details: object
) -> VerificationError:
    if fault is None:  # the reference accepts what the backend refused: never seen
        return BadEncoding(
            f"{what} rejected by the {backend.name} backend", backend=backend.name, **details
        )
    return type(fault)(f"{what}: {fault.message}", **details)


# --- keys --------------------------------------------------------------------------


def keygen(seed: bytes, key_info: bytes = b"") -> int:
    """IETF KeyGen: a secret key derived from a seed of at least 32 bytes (deterministic)."""
    ikm = _as_bytes(seed)
    if ikm is None or len(ikm) < MIN_SEED_LENGTH:
        raise InvalidInput(f"KeyGen needs a seed of at least {MIN_SEED_LENGTH} bytes")
    info = _as_bytes(key_info)
    if info is None:
        raise InvalidInput("key_info must be bytes")
    return _ref.keygen(ikm, info)


def _secret_key(secret_key: object) -> int:
    if isinstance(secret_key, bool) or not isinstance(secret_key, int):
        raise InvalidInput(f"secret key must be an int, not {type(secret_key).__name__}")
    if not 0 < secret_key < CURVE_ORDER:
        raise InvalidInput("secret key must be in 1 … r-1")
    return secret_key


def secret_key_from_bytes(data: bytes) -> int:
    """A secret key from its 32-byte big-endian form (``InvalidInput`` if 0 or >= r)."""
    raw = _as_bytes(data)
    if raw is None or len(raw) != SECRET_KEY_LENGTH:
        raise InvalidInput(f"secret key must be {SECRET_KEY_LENGTH} bytes")
    return _secret_key(int.from_bytes(raw, "big"))


def secret_key_to_bytes(secret_key: int) -> bytes:
    """The 32-byte big-endian form of a secret key."""
    return _secret_key(secret_key).to_bytes(SECRET_KEY_LENGTH, "big")


def sk_to_pk(secret_key: int, *, backend: Backend | str | None = None) -> bytes:
    """The compressed public key of ``secret_key``."""
    return _resolve(backend).sk_to_pk(_secret_key(secret_key))


def validate_pubkey(
    pubkey: bytes, *, allow_infinity: bool = False, backend: Backend | str | None = None
) -> bytes:
    """The key's bytes when it is a canonical G1 point in the subgroup (KeyValidate).

    ``allow_infinity=True`` is plain deserialisation (the identity decodes); a public
    key never may be the identity. Raises BadEncoding, InfinityPoint or NotInSubgroup.
    """
    data = _encoded(pubkey, PUBKEY_LENGTH, "public key")
    if data == INFINITY_PUBKEY:
        if allow_infinity:
            return data
        raise InfinityPoint("public key is the point at infinity")
    chosen = _resolve(backend)
    if not chosen.is_g1(data):
        raise _explained(_ref.g1_fault(data), "public key", chosen)
    return data


def is_valid_pubkey(
    pubkey: bytes, *, allow_infinity: bool = False, backend: Backend | str | None = None
) -> bool:
    """Whether :func:`validate_pubkey` accepts ``pubkey``."""
    try:
        validate_pubkey(pubkey, allow_infinity=allow_infinity, backend=backend)
    except VerificationError:
        return False
    return True


def key_validate(pubkey: bytes, *, backend: Backend | str | None = None) -> bool:
    """IETF KeyValidate: a canonical, non-identity G1 point in the subgroup."""
    return is_valid_pubkey(pubkey, backend=backend)


def validate_signature(
    signature: bytes, *, allow_infinity: bool = True, backend: Backend | str | None = None
) -> bytes:
    """The signature's bytes when it is a canonical G2 point in the subgroup.

    The identity decodes (an aggregate may legitimately be it); pass
    ``allow_infinity=False`` to report it as InfinityPoint. Raises BadEncoding,
    InfinityPoint or NotInSubgroup.
    """
    data = _encoded(signature, SIGNATURE_LENGTH, "signature")
    if data == INFINITY_SIGNATURE:
        if allow_infinity:
            return data
        raise InfinityPoint("signature is the point at infinity")
    chosen = _resolve(backend)
    if not chosen.is_g2(data):
        raise _explained(_ref.g2_fault(data), "signature", chosen)
    return data


def is_valid_signature(
    signature: bytes, *, allow_infinity: bool = True, backend: Backend | str | None = None
) -> bool:
    """Whether :func:`validate_signature` accepts ``signature``."""
    try:
        validate_signature(signature, allow_infinity=allow_infinity, backend=backend)
    except VerificationError:
        return False
    return True


# --- signing and aggregation -------------------------------------------------------


def sign(secret_key: int, message: bytes, *, backend: Backend | str | None = None) -> bytes:
    """The signature of ``message`` under ``secret_key`` (signature tag of the suite)."""
    return _resolve(backend).sign(_secret_key(secret_key), _message(message))


def aggregate(signatures: Sequence[bytes], *, backend: Backend | str | None = None) -> bytes:
    """The sum of signatures (each decoded, not subgroup-checked, as the IETF draft says).

    Raises InvalidInput for an empty list, BadEncoding for bytes that do not decode.
    """
    sigs = [
        _encoded(sig, SIGNATURE_LENGTH, "signature", index=i) for i, sig in enumerate(signatures)
    ]
    if not sigs:
        raise InvalidInput("cannot aggregate an empty list of signatures")
    return _resolve(backend).aggregate(sigs)


def aggregate_pubkeys(pubkeys: Sequence[bytes], *, backend: Backend | str | None = None) -> bytes:
    """The sum of public keys, each key-validated first (typed error naming the index).

    The result may be the identity (``INFINITY_PUBKEY``), which verifies nothing.
    """
    chosen = _resolve(backend)
    keys = _validated_keys(pubkeys, chosen)
    return chosen.aggregate_pubkeys(keys)


def _validated_keys(pubkeys: Iterable[bytes], backend: Backend) -> list[bytes]:
    keys: list[bytes] = []
    for index, pubkey in enumerate(pubkeys):
        try:
            keys.append(validate_pubkey(pubkey, backend=backend))
        except VerificationError as err:
            err.details.setdefault("index", index)
            raise
    if not keys:
        raise InvalidInput("at least one public key is required")
    return keys


# --- verification (bool) -----------------------------------------------------------


def verify(
    pubkey: bytes, message: bytes, signature: bytes, *, backend: Backend | str | None = None
) -> bool:
    """Whether ``signature`` signs ``message`` under ``pubkey`` (False on malformed input)."""
    pk = _sized(pubkey, PUBKEY_LENGTH)
    sig = _sized(signature, SIGNATURE_LENGTH)
    msg = _as_bytes(message)
    if pk is None or sig is None or msg is None:
        return False
    return _resolve(backend).verify(pk, msg, sig)


def fast_aggregate_verify(
    pubkeys: Sequence[bytes],
    message: bytes,
    signature: bytes,
    *,
    backend: Backend | str | None = None,
) -> bool:
    """Whether ``signature`` is the aggregate of all ``pubkeys`` signing one ``message``.

    Every key is deserialised and checked on each call; for a fixed validator set use
    :class:`ValidatorSetKeys`. ``False`` for an empty key list.
    """
    pks = _sized_all(pubkeys, PUBKEY_LENGTH)
    sig = _sized(signature, SIGNATURE_LENGTH)
    msg = _as_bytes(message)
    if not pks or sig is None or msg is None:
        return False
    return _resolve(backend).fast_aggregate_verify(pks, msg, sig)


def aggregate_verify(
    pubkeys: Sequence[bytes],
    messages: Sequence[bytes],
    signature: bytes,
    *,
    backend: Backend | str | None = None,
) -> bool:
    """Whether ``signature`` aggregates ``pubkeys[i]`` signing ``messages[i]`` for all i.

    Messages need not be distinct (POP scheme). ``False`` for empty or unequal lists.
    """
    pks = _sized_all(pubkeys, PUBKEY_LENGTH)
    msgs = _messages(messages)
    sig = _sized(signature, SIGNATURE_LENGTH)
    if not pks or msgs is None or len(msgs) != len(pks) or sig is None:
        return False
    return _resolve(backend).aggregate_verify(pks, msgs, sig)


def batch_verify(
    sets: Sequence[SignatureSet | tuple[bytes, bytes, bytes]],
    *,
    backend: Backend | str | None = None,
) -> bool:
    """Whether every (pubkey, message, signature) set verifies; ``False`` for none."""
    checked: list[tuple[bytes, bytes, bytes]] = []
    for entry in sets:
        if not isinstance(entry, tuple) or len(entry) != 3:
            return False
        pk = _sized(entry[0], PUBKEY_LENGTH)
        msg = _as_bytes(entry[1])
        sig = _sized(entry[2], SIGNATURE_LENGTH)
        if pk is None or msg is None or sig is None:
            return False
        checked.append((pk, msg, sig))
    if not checked:
        return False
    return _resolve(backend).batch_verify(checked)


def pop_prove(secret_key: int, *, backend: Backend | str | None = None) -> bytes:
    """Proof of possession: the key's own public key signed under the PoP tag."""
    return _resolve(backend).pop_prove(_secret_key(secret_key))


def pop_verify(pubkey: bytes, proof: bytes, *, backend: Backend | str | None = None) -> bool:
    """Whether ``proof`` proves possession of ``pubkey``'s secret key (False if malformed)."""
    pk = _sized(pubkey, PUBKEY_LENGTH)
    sig = _sized(proof, SIGNATURE_LENGTH)
    if pk is None or sig is None:
        return False
    return _resolve(backend).pop_verify(pk, sig)


def hash_to_g2(
    message: bytes, dst: bytes = SIG_DST, *, backend: Backend | str | None = None
) -> Affine2:
    """RFC 9380 hash to G2 (``..._XMD:SHA-256_SSWU_RO_``) as affine ((x0, x1), (y0, y1))."""
    return _resolve(backend).hash_to_g2(_message(message), _message(dst))


# --- verification with a reason ----------------------------------------------------


def validate_verify(
    pubkey: bytes, message: bytes, signature: bytes, *, backend: Backend | str | None = None
) -> None:
    """Raise why :func:`verify` would return ``False``; return when it would not."""
    chosen = _resolve(backend)
    pk = validate_pubkey(pubkey, backend=chosen)
    sig = validate_signature(signature, allow_infinity=False, backend=chosen)
    if not chosen.verify(pk, _message(message), sig):
        raise BadSignature("signature does not verify")


def validate_fast_aggregate_verify(
    pubkeys: Sequence[bytes],
    message: bytes,
    signature: bytes,
    *,
    backend: Backend | str | None = None,
) -> None:
    """Raise why :func:`fast_aggregate_verify` would return ``False``."""
    chosen = _resolve(backend)
    keys = _validated_keys(pubkeys, chosen)
    sig = validate_signature(signature, allow_infinity=False, backend=chosen)
    if chosen.aggregate_pubkeys(keys) == INFINITY_PUBKEY:
        raise InfinityPoint("the public keys add up to the point at infinity")
    if not chosen.fast_aggregate_verify(keys, _message(message), sig):
        raise BadSignature("aggregate signature does not verify")


def validate_aggregate_verify(
    pubkeys: Sequence[bytes],
    messages: Sequence[bytes],
    signature: bytes,
    *,
    backend: Backend | str | None = None,
) -> None:
    """Raise why :func:`aggregate_verify` would return ``False``."""
    chosen = _resolve(backend)
    keys = _validated_keys(pubkeys, chosen)
    msgs = [_message(m) for m in messages]
    if len(msgs) != len(keys):
        raise InvalidInput(f"{len(keys)} public keys but {len(msgs)} messages")
    # The identity is a legitimate aggregate here (pk and -pk on one message).
    sig = validate_signature(signature, backend=chosen)
    if not chosen.aggregate_verify(keys, msgs, sig):
        raise BadSignature("aggregate signature does not verify")


def validate_pop(pubkey: bytes, proof: bytes, *, backend: Backend | str | None = None) -> None:
    """Raise why :func:`pop_verify` would return ``False``."""
    chosen = _resolve(backend)
    pk = validate_pubkey(pubkey, backend=chosen)
    sig = validate_signature(proof, allow_infinity=False, backend=chosen)
    if not chosen.pop_verify(pk, sig):
        raise BadSignature("proof of possession does not verify")


# --- a fixed validator set ---------------------------------------------------------


class ValidatorSetKeys:
    """A fixed validator set's public keys: checked once, subset aggregates cached.

    Construction key-validates every key (and every proof of possession when
    ``proofs`` is given, the rogue-key defence the POP scheme relies on), raising
    the typed error with ``details["index"]``. After that a subset, given as indices
    or as a bitmap (SSZ Bitvector order: validator i is bit ``i % 8`` of byte
    ``i // 8``), costs one sum of already-decoded keys the first time and a dictionary
    hit afterwards; :meth:`verify` checks an aggregate signature against that key.
    Thread-safe.
    """

    def __init__(
        self,
        pubkeys: Sequence[bytes],
        *,
        proofs: Sequence[bytes] | None = None,
        backend: Backend | str | None = None,
        cache_size: int = 64,
    ) -> None:
        self._backend = _resolve(backend)
        keys = _validated_keys(pubkeys, self._backend)
        if proofs is not None:
            if len(proofs) != len(keys):
                raise InvalidInput(f"{len(keys)} public keys but {len(proofs)} proofs")
            for index, (pubkey, proof) in enumerate(zip(keys, proofs, strict=True)):
                try:
                    validate_pop(pubkey, proof, backend=self._backend)
                except VerificationError as err:
                    err.details.setdefault("index", index)
                    raise
        if cache_size < 1:
            raise InvalidInput("cache_size must be at least 1")
        self._pubkeys = tuple(keys)
        self._prepared = [self._backend.prepare_pubkey(pk) for pk in keys]
        self._bitmap_length = (len(keys) + 7) // 8
        self._cache: OrderedDict[bytes, object] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self.cache_hits = 0
        self.cache_misses = 0

    def __len__(self) -> int:
        return len(self._pubkeys)

    @property
    def pubkeys(self) -> tuple[bytes, ...]:
        return self._pubkeys

    @property
    def backend_name(self) -> str:
        return self._backend.name

    def bitmap(self, signers: Iterable[int]) -> bytes:
        """The bitmap of signer indices (``InvalidInput``: empty, repeated, out of range)."""
        if _as_bytes(signers) is not None:
            raise InvalidInput("signers are indices here; pass bitmaps to the *_bitmap methods")
        mask = 0
        count = 0
        for index in signers:
            if isinstance(index, bool) or not isinstance(index, int):
                raise InvalidInput(f"signer index must be an int, not {type(index).__name__}")
            if not 0 <= index < len(self._pubkeys):
                raise InvalidInput(f"signer index {index} outside 0 … {len(self._pubkeys) - 1}")
            if mask >> index & 1:
                raise InvalidInput(f"signer index {index} appears twice")
            mask |= 1 << index
            count += 1
        if not count:
            raise InvalidInput("no signers")
        return mask.to_bytes(self._bitmap_length, "little")

    def indices(self, bitmap: bytes) -> tuple[int, ...]:
        """The signer indices of a bitmap (``InvalidInput`` on wrong length or stray bits)."""
        raw = _as_bytes(bitmap)
        if raw is None or len(raw) != self._bitmap_length:
            raise InvalidInput(f"signer bitmap must be {self._bitmap_length} bytes")
        mask = int.from_bytes(raw, "little")
        if mask >> len(self._pubkeys):
            raise InvalidInput("signer bitmap has bits beyond the validator set")
        if not mask:
            raise InvalidInput("no signers")
        return tuple(i for i in range(len(self._pubkeys)) if mask >> i & 1)

    def _aggregate(self, bitmap: bytes) -> object:
        with self._lock:
            found = self._cache.get(bitmap)
            if found is not None:
                self._cache.move_to_end(bitmap)
                self.cache_hits += 1
                return found
        mask = int.from_bytes(bitmap, "little")
        chosen = [p for i, p in enumerate(self._prepared) if mask >> i & 1]
        total = self._backend.aggregate_prepared(chosen)
        with self._lock:
            self.cache_misses += 1
            self._cache[bitmap] = total
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return total

    def aggregate_pubkey(self, signers: Iterable[int]) -> bytes:
        """The compressed aggregate public key of the signers (cached)."""
        return self._backend.prepared_to_bytes(self._aggregate(self.bitmap(signers)))

    def aggregate_pubkey_bitmap(self, bitmap: bytes) -> bytes:
        """As :meth:`aggregate_pubkey`, for a bitmap."""
        self.indices(bitmap)
        return self._backend.prepared_to_bytes(self._aggregate(bytes(bitmap)))

    def verify(self, signers: Iterable[int], message: bytes, signature: bytes) -> bool:
        """FastAggregateVerify of the signers against the cached key (False if malformed)."""
        try:
            bitmap = self.bitmap(signers)
        except InvalidInput:
            return False
        return self._verify(bitmap, message, signature)

    def verify_bitmap(self, bitmap: bytes, message: bytes, signature: bytes) -> bool:
        """As :meth:`verify`, for a bitmap."""
        try:
            self.indices(bitmap)
        except InvalidInput:
            return False
        return self._verify(bytes(bitmap), message, signature)

    def _verify(self, bitmap: bytes, message: bytes, signature: bytes) -> bool:
        msg = _as_bytes(message)
        sig = _sized(signature, SIGNATURE_LENGTH)
        if msg is None or sig is None:
            return False
        return self._backend.verify_prepared(self._aggregate(bitmap), msg, sig)

    def validate(self, signers: Iterable[int], message: bytes, signature: bytes) -> None:
        """Raise why :meth:`verify` would return ``False``."""
        self._validate(self.bitmap(signers), message, signature)

    def validate_bitmap(self, bitmap: bytes, message: bytes, signature: bytes) -> None:
        """Raise why :meth:`verify_bitmap` would return ``False``."""
        self.indices(bitmap)
        self._validate(bytes(bitmap), message, signature)

    def _validate(self, bitmap: bytes, message: bytes, signature: bytes) -> None:
        msg = _message(message)
        sig = validate_signature(signature, allow_infinity=False, backend=self._backend)
        total = self._aggregate(bitmap)
        if self._backend.prepared_to_bytes(total) == INFINITY_PUBKEY:
            raise InfinityPoint("the signers' public keys add up to the point at infinity")
        if not self._backend.verify_prepared(total, msg, sig):
            raise BadSignature("aggregate signature does not verify")


AggregateKeyCache = ValidatorSetKeys
"""The name the design page uses for :class:`ValidatorSetKeys`."""


def eip2537_g1(pubkey: bytes) -> bytes:
    """A 48-byte compressed G1 key in EIP-2537's uncompressed 128-byte encoding.

    For EVM contracts that use the BLS12-381 precompiles (they take no compressed
    points). ``BadEncoding`` when the bytes are not a point; the identity maps to
    128 zero bytes and no subgroup check is made: the contract checks both.
    """
    return _ref.eip2537_g1(_encoded(pubkey, PUBKEY_LENGTH, "public key"))


def eip2537_g2(signature: bytes) -> bytes:
    """A 96-byte compressed G2 signature in EIP-2537's 256-byte encoding (see ``eip2537_g1``)."""
    return _ref.eip2537_g2(_encoded(signature, SIGNATURE_LENGTH, "signature"))
