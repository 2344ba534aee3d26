"""A signer named by one string, as a chains file or a command line names it.

Three forms, one per back-end:

* ``keystore:<path>``: an encrypted keystore file (``keystore_files``); the
  password comes from ``?password-file=<path>`` or the environment variable
  ``PJGW_KEYSTORE_PASSWORD`` (``?password-env=<VAR>`` names another).
* ``pkcs11:token=<token label>;object=<key label>?module-path=<.so>&pin-source=<file>``:
  an RFC 7512 PKCS#11 URI (path attributes ``token``/``object``, query
  attributes ``module-path``/``pin-source``; percent-encoding allowed). The
  module defaults to ``PJGW_PKCS11_MODULE``; ``pin-source=env:<VAR>`` reads the
  PIN from the environment. A PIN is never written in the URI (``pin-value`` is
  refused): URIs end up in files, logs and ``ps``.
* ``file:<path>``: a plaintext hex key, for development only: refused unless
  the caller passes ``insecure_plaintext=True`` (``--insecure-plaintext-key``).

SECURITY: errors name the reference's form and path, never a password, PIN or key.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote

from adapters.key_files import read_key_file
from adapters.signers.keystore_files import open_key_file
from adapters.signers.local import LocalSigner
from core.errors import ConfigError, InvalidInput
from core.seams import SECP256K1, Signer

if TYPE_CHECKING:
    from adapters.signers.pkcs11 import TokenKey

_log = logging.getLogger(__name__)
MAX_REF = 2_000
PASSWORD_ENV = "PJGW_KEYSTORE_PASSWORD"  # noqa: S105 (the variable's name, not a password)
MODULE_ENV = "PJGW_PKCS11_MODULE"
PLAINTEXT_REFUSED = (
    "a plaintext key file is for development only: pass --insecure-plaintext-key "
    "(or the insecure_plaintext_key setting) to use one, or keep the key in the "
    "keystore or an HSM (docs/operator-guide.md, key management)"
)


def open_signer(
    ref: str,
    scheme: str = SECP256K1,
    *,
    insecure_plaintext: bool = False,
    env: Mapping[str, str] | None = None,
) -> Signer:
    """The signer ``ref`` names (module docstring); ``ConfigError`` when it does not open."""
    env = os.environ if env is None else env
    if not isinstance(ref, str) or not 0 < len(ref) <= MAX_REF:
        raise InvalidInput(f"a signer reference is 1-{MAX_REF} characters")
    kind, _, rest = ref.partition(":")
    if kind == "file":
        if not insecure_plaintext:
            raise ConfigError(PLAINTEXT_REFUSED)
        return LocalSigner(read_key_file(Path(rest)), scheme, label=f"file:{Path(rest).name}")
    if kind == "keystore":
        path, query = _split_query(rest)
        password = _secret(query, "password", PASSWORD_ENV, env, "keystore password")
        return open_key_file(Path(unquote(path)), password, scheme)
    if kind == "pkcs11":
        from adapters.signers.pkcs11 import Pkcs11Signer

        return Pkcs11Signer(token_key(ref, env=env), scheme)
    raise ConfigError(
        f"unknown signer reference kind {kind!r:.20}: use keystore:, pkcs11: or file: "
        "(the last with --insecure-plaintext-key)"
    )


def token_key(ref: str, *, env: Mapping[str, str] | None = None) -> TokenKey:
    """Where a ``pkcs11:`` reference's key lives (module, token, label, PIN from its source)."""
    from adapters.signers.pkcs11 import TokenKey

    env = os.environ if env is None else env
    kind, _, rest = ref.partition(":")
    if kind != "pkcs11":
        raise ConfigError("not a pkcs11: reference")
    path, query = _split_query(rest)
    attrs = dict(_pairs(path, ";"))
    if "pin-value" in query:
        raise ConfigError("a pkcs11 URI must not hold its PIN: use pin-source=<file>")
    module = query.get("module-path") or env.get(MODULE_ENV, "")
    if not module or "token" not in attrs or "object" not in attrs:
        raise ConfigError(
            "a pkcs11 URI needs token=, object= and module-path= (or PJGW_PKCS11_MODULE)"
        )
    pin = _secret(query, "pin", None, env, "PKCS#11 PIN", source_key="pin-source")
    return TokenKey(module, attrs["token"], attrs["object"], pin)


_warned: set[tuple[str, str]] = set()


def warn_plaintext(chain: str, setting: str) -> None:
    """Log once per chain and setting that a plaintext key from the settings signs (the
    development path); the value is never read here."""
    if (chain, setting) not in _warned:
        _warned.add((chain, setting))
        _log.warning(
            "chain %s signs with the plaintext %s: development only; keep the key in the "
            "keystore or an HSM (docs/operator-guide.md, key management)",
            chain,
            setting,
        )


def describe(ref: str) -> str:
    """What a reference names, safe to log (no query: no password or PIN source)."""
    kind, _, rest = ref.partition(":")
    return f"{kind}:{rest.partition('?')[0]}"[:200]


def _split_query(rest: str) -> tuple[str, dict[str, str]]:
    path, _, query = rest.partition("?")
    return path, dict(_pairs(query, "&"))


def _pairs(text: str, sep: str) -> list[tuple[str, str]]:
    out = []
    for part in filter(None, text.split(sep)):
        key, eq, value = part.partition("=")
        if not eq:
            raise ConfigError(f"signer reference: {key!r:.40} is not attribute=value")
        out.append((unquote(key), unquote(value)))
    return out


def _secret(
    query: Mapping[str, str],
    name: str,
    default_env: str | None,
    env: Mapping[str, str],
    what: str,
    *,
    source_key: str | None = None,
) -> str:
    """A password or PIN from a file (``<name>-file`` / ``pin-source``) or a variable."""
    source = query.get(source_key or f"{name}-file")
    variable = query.get(f"{name}-env", default_env)
    if source is not None and source.startswith("env:"):
        source, variable = None, source[4:]
    if source is not None:
        try:
            return Path(source.removeprefix("file:")).read_text().strip()
        except OSError:
            raise ConfigError(f"cannot read the {what} from {source}") from None
    if variable and variable in env:
        return env[variable]
    raise ConfigError(f"no {what}: name a file or set {variable or 'its variable'}")


__all__ = [
    "MODULE_ENV",
    "PASSWORD_ENV",
    "describe",
    "open_signer",
    "token_key",
    "warn_plaintext",
]
