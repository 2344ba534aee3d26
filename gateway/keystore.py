"""Hub-managed accounts: source-chain keys kept encrypted at rest, for institutional users.

A transfer may start ``from_account`` (a name) instead of a client-signed
transaction; the hub then signs the source transaction with that account's
key. Keys live one file per account in ``Settings.keystore_dir``, encrypted
with ``Settings.keystore_password``, in the format the account's family names
(``ManagedKeys.key_format`` of its adapter class, ``core.seams``):

* ``eth-keystore-v3``: the Ethereum keystore v3 JSON (scrypt + AES-128-CTR +
  keccak MAC), written and read by ``eth-account``, so the files interoperate
  with geth, Foundry and MetaMask; a ``pjgw`` member records the family and name.
* ``pjgw-aead-v1``: the 32-byte secret, sealed with scrypt (RFC 7914) and
  AES-256-GCM from ``cryptography``; the family, name and address are the
  associated data, so a file moved to another name or tampered with fails to
  open. (For families with no standard keystore format; this mirrors v3's
  fields with an AEAD in place of CTR + MAC.)

The two formats are read and sealed by ``adapters.signers.keystore_files``, below
the notary and the relayer, so their keys (``keystore:<file>`` signers) live in the
same files. The family turns an opened secret into its signer (``ManagedKeys.account_signer``)
and names its address; the keystore imports no family. Decrypted keys stay in
memory once unlocked (scrypt is deliberately slow).

SECURITY: a key or password never appears in a repr, a log line, an error
message or a response; files are written with mode 0600.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from eth_account import Account
from pydantic import SecretStr

from adapters.registry import discover
from adapters.signers.keystore_files import aad, seal, unseal
from core.errors import ConfigError, InvalidInput, NotFound
from core.seams import AccountSigner, ManagedKeys

ETH_KEYSTORE_V3 = "eth-keystore-v3"
AEAD_V1 = "pjgw-aead-v1"
KEY_FORMATS = (ETH_KEYSTORE_V3, AEAD_V1)
DEFAULT_SCRYPT_N = 2**15
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True, slots=True)
class ManagedAccount:
    """What is public about a managed account."""

    name: str
    family: str
    address: str  # 0x hex, lower case


class ManagedAccounts(Protocol):
    """The accounts the hub signs for (``FileKeystore`` on disk; others may use an HSM).

    CONTRACT: ``account`` raises ``NotFound`` for an unknown name; ``signer``
    raises ``ConfigError`` when the key cannot be unlocked. The signer is the
    account family's own (``ManagedKeys.account_signer``): a family's
    ``SourceTransactions`` refuses one of another family.
    """

    def account(self, name: str) -> ManagedAccount: ...
    def signer(self, name: str) -> AccountSigner: ...


@cache
def installed_keys(family: str) -> ManagedKeys | None:
    """How an installed family keeps keys (its adapter class), None when it declares nothing."""
    try:
        cls = discover().load(family)
    except ConfigError:
        return None
    return cls if isinstance(cls, ManagedKeys) else None


class FileKeystore:
    """One encrypted file per account under ``directory``."""

    def __init__(
        self,
        directory: Path,
        password: SecretStr,
        *,
        families: Callable[[str], ManagedKeys | None] = installed_keys,
    ):
        self.directory = Path(directory)
        self._password = password
        self._families = families
        self._unlocked: dict[str, AccountSigner] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FileKeystore({str(self.directory)!r})"

    # --- creating ---------------------------------------------------------------------

    def create(
        self,
        name: str,
        family: str,
        secret: bytes | None = None,
        *,
        scrypt_n: int = DEFAULT_SCRYPT_N,
    ) -> ManagedAccount:
        """Encrypt ``secret`` (a fresh random key when None) as account ``name``."""
        _check_name(name)
        keys = self._keys(family)
        path = self._path(name)
        if path.exists():
            raise InvalidInput(f"managed account {name!r} exists already")
        secret = secret if secret is not None else secrets.token_bytes(32)
        if len(secret) != 32:
            raise InvalidInput("an account key is 32 bytes")
        address = "0x" + keys.account_signer(secret).address.hex()
        password = self._password.get_secret_value()
        document: dict[str, Any]
        if keys.key_format == ETH_KEYSTORE_V3:
            document = Account.encrypt(secret, password, kdf="scrypt", iterations=scrypt_n)
        else:
            document = seal(secret, password, aad(name, family, address), scrypt_n)
            document["address"] = address[2:]
        document["pjgw"] = {"name": name, "family": family}
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(document, out)
        return ManagedAccount(name, family, address)

    # --- reading ----------------------------------------------------------------------

    def account(self, name: str) -> ManagedAccount:
        document = self._document(name)
        meta = document.get("pjgw", {})
        family = meta.get("family")
        address = document.get("address")
        if not isinstance(family, str) or not isinstance(address, str):
            raise ConfigError(f"managed account {name!r}: keystore file is not a pjgw keystore")
        return ManagedAccount(name, family, "0x" + address.lower().removeprefix("0x"))

    def signer(self, name: str) -> AccountSigner:
        """The account's signer, unlocked once (``ConfigError`` when it does not unlock)."""
        with self._lock:
            found = self._unlocked.get(name)
        if found is not None:
            return found
        public = self.account(name)
        keys = self._keys(public.family)
        document = self._document(name)
        password = self._password.get_secret_value()
        if keys.key_format == ETH_KEYSTORE_V3:
            try:
                secret = bytes(Account.decrypt(document, password))
            except ValueError:
                raise ConfigError(f"managed account {name!r} does not unlock") from None
        else:
            secret = unseal(document, password, aad(name, public.family, public.address))
        try:
            unlocked = keys.account_signer(secret)
        except InvalidInput:
            raise ConfigError(f"managed account {name!r}: not a key of its family") from None
        if "0x" + unlocked.address.hex() != public.address:
            raise ConfigError(f"managed account {name!r}: key does not match its address")
        with self._lock:
            self._unlocked[name] = unlocked
        return unlocked

    def _keys(self, family: str) -> ManagedKeys:
        """The family's key rules; ``InvalidInput`` when it keeps no managed accounts."""
        keys = self._families(family)
        if keys is None or keys.key_format not in KEY_FORMATS:
            raise InvalidInput(f"managed accounts do not exist for {family!r} chains")
        return keys

    def _path(self, name: str) -> Path:
        _check_name(name)
        return self.directory / f"{name}.json"

    def _document(self, name: str) -> dict[str, Any]:
        try:
            return json.loads(self._path(name).read_text())  # type: ignore[no-any-return]
        except FileNotFoundError:
            raise NotFound(f"no managed account {name!r}") from None
        except (OSError, ValueError):
            raise ConfigError(f"managed account {name!r}: keystore file unreadable") from None


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise InvalidInput("an account name is 1-64 characters of A-Z a-z 0-9 . _ -")


__all__ = ["FileKeystore", "ManagedAccount", "ManagedAccounts"]
