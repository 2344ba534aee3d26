"""The one error tree of Pujiang Gateway.

Every error the hub raises on purpose is a ``PjgwError``. Each class carries

* ``code``: a stable, machine-readable identifier. It is part of the public
  contract: the API turns it into the problem+json ``type``
  (``https://pujiang.dev/problems/<code>``), operators grep logs for it, and
  it never changes once released.
* ``retryable``: whether repeating the same operation later may succeed
  (a node was down, a lease was taken). The relayer retries only these.

Library errors (httpx, SQLAlchemy, py-ecc, rlp) are translated at the
boundary where they occur with ``raise ... from err``; they never leak.

    PjgwError
    ├── ConfigError                    settings or chain configuration invalid
    ├── InvalidInput                   a caller sent something malformed or out of bounds
    │   ├── TooLarge                   a request body over its route's bound (413)
    │   ├── UriTooLong                 a request target over its bound (414)
    │   ├── HeadersTooLarge            request headers over their bound (431)
    │   ├── TooComplex                 JSON nested, keyed or numbered past its bounds
    │   └── PolicyTooBroad             a payload policy would hold every transfer (force it)
    ├── RequestTimeout                 the request body did not arrive in time (408)
    ├── RateLimited (retry)            too many requests or connections from one client (429)
    ├── NotFound
    ├── Conflict                       idempotency or uniqueness clash
    ├── InvalidTransition              a state change the transition table forbids
    ├── VerificationError              a header, signature or proof was rejected
    │   ├── BadEncoding                bytes do not decode (length, flags, RLP, hex)
    │   ├── NotInSubgroup              a curve point off its prime-order subgroup
    │   ├── InfinityPoint              the identity point where a key or signature is required
    │   ├── BadSignature               a signature does not verify
    │   ├── InsufficientPower          signers hold too little voting power
    │   ├── InvalidHeader              a header breaks its chain's rules (height, time, order)
    │   ├── BadProof                   a Merkle (-Patricia) proof is malformed or does not link
    │   ├── RootMismatch               a proof is well formed but ends at another root
    │   ├── ValueMismatch              a proven key holds another value than claimed
    │   ├── HeaderExpired              the trusted state is outside its trusting period
    │   └── Misbehaviour               two valid conflicting headers: the client freezes
    ├── ClientFrozen                   a light client refuses work after misbehaviour
    ├── ChainError                     talking to a chain failed
    │   ├── ChainUnavailable (retry)   timeouts, connection errors, 5xx
    │   ├── ChainRejected              the node refused a transaction
    │   └── ReorgDetected (retry)      a stored block hash no longer matches
    └── StoreError
        ├── StoreUnavailable (retry)
        └── LeaseLost (retry)          another worker holds the transfer
"""

from __future__ import annotations

from typing import ClassVar


class PjgwError(Exception):
    """Root of every error the gateway raises on purpose."""

    code: ClassVar[str] = "internal"
    retryable: ClassVar[bool] = False
    http_status: ClassVar[int] = 500

    def __init__(self, message: str = "", **details: object) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code).strip()
        self.details = details

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class ConfigError(PjgwError):
    """Settings or chain configuration are invalid."""

    code = "config-invalid"


class InvalidInput(PjgwError):
    """The input is malformed or outside its bounds."""

    code = "invalid-input"
    http_status = 422


class TooLarge(InvalidInput):
    """The request body exceeds the bound of its route."""

    code = "too-large"
    http_status = 413


class UriTooLong(InvalidInput):
    """The request target (path and query) exceeds its bound."""

    code = "uri-too-long"
    http_status = 414


class HeadersTooLarge(InvalidInput):
    """The request headers exceed their bound (count or bytes)."""

    code = "headers-too-large"
    http_status = 431


class TooComplex(InvalidInput):
    """The JSON body is nested too deep, has too many keys or too long a number."""

    code = "too-complex"


class PolicyTooBroad(InvalidInput):
    """A payload policy would hold or reject every transfer of its route; written only
    with ``force`` (``docs/supervision.md`` "Payload policies")."""

    code = "policy-too-broad"


class RequestTimeout(PjgwError):
    """The request body did not arrive within the server's deadline."""

    code = "request-timeout"
    retryable = True
    http_status = 408


class RateLimited(PjgwError):
    """Too many requests (or connections) from this client; ``Retry-After`` says when."""

    code = "rate-limited"
    retryable = True
    http_status = 429


class NotFound(PjgwError):
    """The requested object does not exist."""

    code = "not-found"
    http_status = 404


class Conflict(PjgwError):
    """The request conflicts with an existing object."""

    code = "conflict"
    http_status = 409


class InvalidTransition(PjgwError):
    """The state machine forbids this transition."""

    code = "invalid-transition"
    http_status = 409


class VerificationError(PjgwError):
    """A header, signature or proof was rejected."""

    code = "verification-failed"
    http_status = 422


class BadEncoding(VerificationError):
    """The bytes do not decode to a well-formed object."""

    code = "bad-encoding"


class NotInSubgroup(VerificationError):
    """A curve point is not in the prime-order subgroup."""

    code = "not-in-subgroup"


class InfinityPoint(VerificationError):
    """The point at infinity was given where a key or signature is required."""

    code = "infinity-point"


class BadSignature(VerificationError):
    """The signature does not verify."""

    code = "bad-signature"


class InsufficientPower(VerificationError):
    """The signers hold too little voting power."""

    code = "insufficient-power"


class BadProof(VerificationError):
    """The proof is malformed or its nodes do not link."""

    code = "bad-proof"


class InvalidHeader(VerificationError):
    """A header breaks a rule of its chain (height, time, parent link, update order)."""

    code = "invalid-header"


class RootMismatch(VerificationError):
    """The proof is well formed but leads to another root."""

    code = "root-mismatch"


class ValueMismatch(VerificationError):
    """The proven key holds another value than the one claimed."""

    code = "value-mismatch"


class HeaderExpired(VerificationError):
    """The trusted state is older than the trusting period."""

    code = "header-expired"


class Misbehaviour(VerificationError):
    """Two valid headers conflict at the same height."""

    code = "misbehaviour"


class ClientFrozen(PjgwError):
    """The light client is frozen after misbehaviour and refuses work."""

    code = "client-frozen"
    http_status = 409


class ChainError(PjgwError):
    """Talking to a chain failed."""

    code = "chain-error"
    http_status = 502


class ChainUnavailable(ChainError):
    """The chain node did not answer in time or answered with a server error."""

    code = "chain-unavailable"
    retryable = True
    http_status = 503


class ChainRejected(ChainError):
    """The chain node refused the transaction."""

    code = "chain-rejected"


class ReorgDetected(ChainError):
    """A block the hub stored is no longer on the canonical chain."""

    code = "reorg-detected"
    retryable = True


class StoreError(PjgwError):
    """The store failed."""

    code = "store-error"


class StoreUnavailable(StoreError):
    """The database is unreachable."""

    code = "store-unavailable"
    retryable = True
    http_status = 503


class LeaseLost(StoreError):
    """Another worker holds the lease on this object."""

    code = "lease-lost"
    retryable = True
    http_status = 409


def all_error_classes() -> list[type[PjgwError]]:
    """Every class of the tree, root first (for the API's error table and tests)."""
    found: list[type[PjgwError]] = []
    seen: set[type[PjgwError]] = set()
    stack: list[type[PjgwError]] = [PjgwError]
    while stack:
        cls = stack.pop(0)
        if cls in seen:  # a class with two parents in the tree is reached twice
            continue
        seen.add(cls)
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found
