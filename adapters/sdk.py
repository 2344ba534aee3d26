"""The adapter SDK: the one module a chain family's package imports from the hub.

A family written against this module keeps working while ``SEAM_VERSION``'s
major number stays the same. Everything here is a re-export of ``core`` (the
seams and the capabilities the hub asks above ``adapters/``, listed in
``docs/capabilities.md``; the value types; the error tree) plus three helpers
every family needs:

* ``SEAM_VERSION`` and ``check_seam_version``: an adapter class declares the
  seam version it was written for as ``seam_version = "1.0"`` (a literal, not
  this constant: it records what the package was *built* for). The registry
  reports a plugin of another major version as broken instead of loading it.
* ``settings_model_of``: the pydantic model that validates a family's chain
  options (``settings_model`` on the class, else the annotation of the
  ``settings`` parameter of ``__init__``).
* ``validate_settings``: options -> settings, or a ``ConfigError`` naming the
  bad fields and never their values (options hold signing keys).

Versioning rule (``docs/adapter-guide.md`` §1): a minor version only adds
optional things (a method with a default in the hub, a new optional field), so
an adapter built for ``1.0`` runs on every ``1.x`` hub and one built for
``1.3`` on a ``1.0`` hub as long as it does not rely on what ``1.3`` added; a
major version changes or removes something, and plugins must be rebuilt.
"""

from __future__ import annotations

import re
import typing
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from core.errors import (
    BadEncoding,
    BadProof,
    BadSignature,
    ChainError,
    ChainRejected,
    ChainUnavailable,
    ClientFrozen,
    ConfigError,
    HeaderExpired,
    InsufficientPower,
    InvalidHeader,
    InvalidInput,
    Misbehaviour,
    NotFound,
    RootMismatch,
    ValueMismatch,
    VerificationError,
)
from core.ids import ChainId, Height
from core.seams import (
    AccountSigner,
    AnchorChain,
    BridgeChain,
    BridgeEndpoint,
    ChainAdapter,
    ChainTimingFigures,
    ClientCodec,
    Closable,
    FamilyRules,
    HtlcChain,
    LightClient,
    ManagedKeys,
    OnChainClientHost,
    OnChainClientSource,
    OnChainClientStatus,
    OnChainUpdate,
    SourceChain,
    SourceTransactions,
    is_chain_adapter,
)
from core.swaps import HtlcEndpoint
from core.types import (
    ChainAction,
    ChainEvent,
    EventKind,
    HeaderUpdate,
    InclusionProof,
    Packet,
    SendIntent,
    SourceSend,
    TxReceipt,
)

SEAM_VERSION = "2.0"
"""The version of the ``ChainAdapter`` / ``LightClient`` contract this hub speaks (MAJOR.MINOR).

2.0 (relay core v2): ``header_update``, ``client_codec``, ``prove_state``,
``event_from_proof`` and the composed capabilities became part of the seam, so
a 1.x package must be rebuilt (it would be found unable to be relayed)."""

_VERSION = re.compile(r"^(\d+)\.(\d+)$")

M = TypeVar("M", bound=BaseModel)


def seam_major(version: str) -> int:
    """The major number of ``"MAJOR.MINOR"``; ``ValueError`` when malformed."""
    match = _VERSION.fullmatch(version) if isinstance(version, str) else None
    if match is None:
        raise ValueError(f"seam_version must be 'MAJOR.MINOR', got {version!r}")
    return int(match.group(1))


def check_seam_version(adapter: object) -> str | None:
    """Why ``adapter`` (a class or object) cannot run on this hub, or None when it can.

    An adapter without ``seam_version`` predates the SDK and is accepted (it is
    reported with an unknown seam version); a malformed one or another major
    version is refused.
    """
    declared = getattr(adapter, "seam_version", None)
    if declared is None:
        return None
    try:
        major = seam_major(declared)
    except ValueError as err:
        return str(err)
    if major != seam_major(SEAM_VERSION):
        return (
            f"built for seam version {declared}, this hub speaks {SEAM_VERSION} "
            f"(major versions differ: rebuild the package against this hub)"
        )
    return None


def settings_model_of(adapter_cls: type) -> type[BaseModel] | None:
    """The pydantic model validating the family's options, or None when it names none.

    ``settings_model`` on the class wins; otherwise the type annotation of the
    ``settings`` parameter of ``__init__`` (``PujiangAdapter(settings: PujiangSettings)``).
    """
    declared = getattr(adapter_cls, "settings_model", None)
    if _is_model(declared):
        return declared
    init = getattr(adapter_cls, "__init__", None)
    if init is None or init is object.__init__:
        return None
    try:
        hints = typing.get_type_hints(init)
    except Exception:  # an unresolvable annotation: the family names no model we can read
        return None
    candidate = hints.get("settings")
    if _is_model(candidate):
        return candidate
    for arg in typing.get_args(candidate):  # ``Settings | None``
        if _is_model(arg):
            return arg
    return None


def validate_settings(model: type[M], options: dict[str, Any], *, family: str = "") -> M:
    """``model(**options)``; ``ConfigError`` listing the bad fields, never the values.

    ``from None``: the pydantic error holds the inputs (a signing key among
    them), and a chained traceback in a log would print them.
    """
    try:
        return model(**options)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}"
            for e in err.errors(include_input=False, include_url=False)
        )
        what = f"{family} chain options" if family else "chain options"
        raise ConfigError(f"invalid {what}: {problems}", family=family) from None


def _is_model(obj: object) -> bool:
    return isinstance(obj, type) and issubclass(obj, BaseModel)


__all__ = [
    "SEAM_VERSION",
    "AccountSigner",
    "AnchorChain",
    "BadEncoding",
    "BadProof",
    "BadSignature",
    "BridgeChain",
    "BridgeEndpoint",
    "ChainAction",
    "ChainAdapter",
    "ChainError",
    "ChainEvent",
    "ChainId",
    "ChainRejected",
    "ChainTimingFigures",
    "ChainUnavailable",
    "ClientCodec",
    "ClientFrozen",
    "Closable",
    "ConfigError",
    "EventKind",
    "FamilyRules",
    "HeaderExpired",
    "HeaderUpdate",
    "Height",
    "HtlcChain",
    "HtlcEndpoint",
    "InclusionProof",
    "InsufficientPower",
    "InvalidHeader",
    "InvalidInput",
    "LightClient",
    "ManagedKeys",
    "Misbehaviour",
    "NotFound",
    "OnChainClientHost",
    "OnChainClientSource",
    "OnChainClientStatus",
    "OnChainUpdate",
    "Packet",
    "RootMismatch",
    "SendIntent",
    "SourceChain",
    "SourceSend",
    "SourceTransactions",
    "TxReceipt",
    "ValueMismatch",
    "VerificationError",
    "check_seam_version",
    "is_chain_adapter",
    "seam_major",
    "settings_model_of",
    "validate_settings",
]
