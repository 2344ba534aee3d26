"""Hub-managed accounts: source-chain keys kept encrypted at rest, for institutional users.

A transfer may start ``from_account`` (a name) instead of a client-signed
transaction; the hub then signs the source transaction with that account's
key. Keys live one file per account in ``Settings.keystore_dir``, encrypted
with ``Settings.keystore_password``:

* ``evm``: the Ethereum keystore v3 JSON (scrypt + AES-128-CTR + keccak MAC),
  written and read by ``eth-account``, so the files interoperate with geth,
  Foundry and MetaMask; a ``pjgw`` member records the family and name.
* ``pujiang``: the 32-byte Ed25519 seed, sealed with scrypt (RFC 7914) and
  AES-256-GCM from ``cryptography``; the family, name and address are the
  associated data, so a file moved to another name or tampered with fails to
  open. (No standard keystore format exists for Pujiang keys; this mirrors
  v3's fields with an AEAD in place of CTR + MAC.)

Decrypted keys stay in memory once unlocked (scrypt is deliberately slow).

SECURITY: a key or password never appears in a repr, a log line, an error
message or a response; files are written with mode 0600.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from eth_account import Account
from eth_account.signers.local import LocalAccount
from pydantic import SecretStr

from adapters.pujiang.actions import TxSigner
from core.errors import ConfigError, InvalidInput, NotFound
from proofs.hashing import get_hash_function

FAMILIES = ("evm", "pujiang")
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

    CONTRACT: ``account`` raises ``NotFound`` for an unknown name; the signer
    methods raise ``InvalidInput`` when the account is of another family and
    ``ConfigError`` when its key cannot be unlocked.
    """

    def account(self, name: str) -> ManagedAccount: ...
    def pujiang_signer(self, name: str) -> TxSigner: ...
    def evm_account(self, name: str) -> LocalAccount: ...


class FileKeystore:
    """One encrypted file per account under ``directory``."""

    def __init__(self, directory: Path, password: SecretStr, *, hash_profile: str = "sha256"):
        self.directory = Path(directory)
        self._password = password
        self._hash = get_hash_function(hash_profile)
        self._unlocked: dict[str, TxSigner | LocalAccount] = {}
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
        if family not in FAMILIES:
            raise InvalidInput(f"managed accounts exist for {', '.join(FAMILIES)}, not {family!r}")
        path = self._path(name)
        if path.exists():
            raise InvalidInput(f"managed account {name!r} exists already")
        secret = secret if secret is not None else secrets.token_bytes(32)
        if len(secret) != 32:
            raise InvalidInput("an account key is 32 bytes")
        password = self._password.get_secret_value()
        if family == "evm":
            account = Account.from_key(secret)
            document: dict[str, Any] = Account.encrypt(
                secret, password, kdf="scrypt", iterations=scrypt_n
            )
            address = account.address.lower()
        else:
            address = "0x" + TxSigner(secret).address(self._hash).hex()
            document = _seal(secret, password, _aad(name, family, address), scrypt_n)
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
        if family not in FAMILIES or not isinstance(address, str):
            raise ConfigError(f"managed account {name!r}: keystore file is not a pjgw keystore")
        return ManagedAccount(name, family, "0x" + address.lower().removeprefix("0x"))

    def pujiang_signer(self, name: str) -> TxSigner:
        unlocked = self._unlock(name, "pujiang")
        if not isinstance(unlocked, TxSigner):
            raise InvalidInput(f"managed account {name!r} is not a pujiang account")
        return unlocked

    def evm_account(self, name: str) -> LocalAccount:
        unlocked = self._unlock(name, "evm")
        if not isinstance(unlocked, LocalAccount):
            raise InvalidInput(f"managed account {name!r} is not an evm account")
        return unlocked

    def _unlock(self, name: str, family: str) -> TxSigner | LocalAccount:
        with self._lock:
            found = self._unlocked.get(name)
        if found is not None:
            return found
        public = self.account(name)
        if public.family != family:
            raise InvalidInput(f"managed account {name!r} is a {public.family} account")
        document = self._document(name)
        password = self._password.get_secret_value()
        unlocked: TxSigner | LocalAccount
        if family == "evm":
            try:
                unlocked = Account.from_key(Account.decrypt(document, password))
            except ValueError:
                raise ConfigError(f"managed account {name!r} does not unlock") from None
        else:
            seed = _open(document, password, _aad(name, family, public.address))
            unlocked = TxSigner(seed)
            if "0x" + unlocked.address(self._hash).hex() != public.address:
                raise ConfigError(f"managed account {name!r}: key does not match its address")
        with self._lock:
            self._unlocked[name] = unlocked
        return unlocked

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


def _aad(name: str, family: str, address: str) -> bytes:
    return f"pjgw-keystore/v1|{family}|{name}|{address}".encode()


def _kdf(salt: bytes, n: int) -> Scrypt:
    return Scrypt(salt=salt, length=32, n=n, r=8, p=1)


def _seal(secret: bytes, password: str, aad: bytes, n: int) -> dict[str, Any]:
    salt = secrets.token_bytes(32)
    nonce = secrets.token_bytes(12)
    key = _kdf(salt, n).derive(password.encode())
    ciphertext = AESGCM(key).encrypt(nonce, secret, aad)
    return {
        "version": 1,
        "crypto": {
            "kdf": "scrypt",
            "kdfparams": {"n": n, "r": 8, "p": 1, "dklen": 32, "salt": salt.hex()},
            "cipher": "aes-256-gcm",
            "nonce": nonce.hex(),
            "ciphertext": ciphertext.hex(),
        },
    }


def _open(document: dict[str, Any], password: str, aad: bytes) -> bytes:
    try:
        crypto = document["crypto"]
        params = crypto["kdfparams"]
        if crypto["kdf"] != "scrypt" or crypto["cipher"] != "aes-256-gcm":
            raise ValueError("unsupported")
        n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
        if n > 2**20 or r != 8 or p != 1:  # bound the work a planted file can cost
            raise ValueError("unsupported")
        key = Scrypt(salt=bytes.fromhex(params["salt"]), length=32, n=n, r=r, p=p).derive(
            password.encode()
        )
        return AESGCM(key).decrypt(
            bytes.fromhex(crypto["nonce"]), bytes.fromhex(crypto["ciphertext"]), aad
        )
    except InvalidTag:
        raise ConfigError("managed account does not unlock (password or file)") from None
    except (KeyError, TypeError, ValueError):
        raise ConfigError("managed account: keystore file is malformed") from None


__all__ = ["FileKeystore", "ManagedAccount", "ManagedAccounts"]
