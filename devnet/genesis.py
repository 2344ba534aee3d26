"""A devnet's genesis: created once, on the first start of a data directory.

Genesis fixes what never changes for the life of the chain: chain id, hash
profile, start time, the seed every dev key derives from, the first
validator set (with proofs of possession), the funded dev accounts and the
notary committee. It is written to ``genesis.json`` (public content plus the
seed) together with two files of dev secrets for the tour and the tests,
``accounts.json`` (Ed25519 or SM2 keys) and ``notaries.json`` (secp256k1 keys).

The account scheme (``ed25519``, or ``sm2`` on a ``gm`` chain) is part of the
genesis, so a chain says how its transactions are signed. ``genesis_hash``
commits to everything but the seed:
``H(rlp([b"pujiang/genesis/v1", chain_id, hash_profile, genesis_time_ms,
validators, [[address, [[denom, amount], ...]], ...], [threshold, [notary, ...]]
(, account_scheme)]))`` where ``account_scheme`` is appended only when it is not
``ed25519``: a standard chain's genesis hash is what it was before SM2 existed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import rlp

import proofs.bls as bls
from core.errors import ConfigError
from devnet import keys
from devnet.config import NodeConfig
from devnet.state import (
    NOTARIES_KEY,
    VALSET_KEY,
    balance_key,
    encode_uint,
)
from proofs.hashing import HashFunction
from proofs.pujiang import accounts as schemes
from proofs.pujiang import codec

GENESIS_TAG = b"pujiang/genesis/v1"
GENESIS_FILE = "genesis.json"
ACCOUNTS_FILE = "accounts.json"
NOTARIES_FILE = "notaries.json"
VALIDATOR_POWER = 10
KEYRING_SPARE = 16
"""Derived validator keys held beyond the genesis set, for validator-set updates."""
GENESIS_BALANCES = {"upj": 10**15, "ucny": 10**12}
"""Two native assets per dev account, so multi-asset paths are exercised from the start."""


@dataclass(frozen=True)
class GenesisAccount:
    name: str
    address: bytes
    balances: dict[str, int]


@dataclass(frozen=True)
class Genesis:
    chain_id: str
    hash_profile: str
    genesis_time_ms: int
    seed: bytes
    validators: tuple[codec.Validator, ...]
    accounts: tuple[GenesisAccount, ...]
    notary_threshold: int
    notaries: tuple[bytes, ...]
    keyring_size: int
    account_scheme: str = schemes.ED25519

    @property
    def crypto(self) -> str:
        """``standard``, ``gm``, or ``custom`` (e.g. ``--hash sm3`` with Ed25519 accounts)."""
        return schemes.crypto_profile_name(self.hash_profile, self.account_scheme) or "custom"

    def account_key(self, index: int) -> keys.AccountKey:
        """Dev account ``index``'s key under this chain's scheme."""
        return keys.scheme_account_key(self.seed, index, self.account_scheme)

    @property
    def hash_fn(self) -> HashFunction:
        return codec.hash_profile(self.hash_profile)

    @property
    def chain_id_bytes(self) -> bytes:
        return self.chain_id.encode()

    def hash(self) -> bytes:
        accounts = [
            [a.address, [[d.encode(), n] for d, n in sorted(a.balances.items())]]
            for a in self.accounts
        ]
        items: list[object] = [
            GENESIS_TAG,
            self.chain_id_bytes,
            self.hash_profile.encode(),
            self.genesis_time_ms,
            list(self.validators),
            accounts,
            [self.notary_threshold, list(self.notaries)],
        ]
        if self.account_scheme != schemes.ED25519:
            items.append(self.account_scheme.encode())
        return self.hash_fn(rlp.encode(items))

    def initial_state(self) -> dict[bytes, bytes]:
        state: dict[bytes, bytes] = {}
        for account in self.accounts:
            for denom, amount in account.balances.items():
                state[balance_key(account.address, denom.encode())] = encode_uint(amount)
        state[VALSET_KEY] = encode_valset_value(0, self.validators)
        state[NOTARIES_KEY] = rlp.encode([self.notary_threshold, list(self.notaries)])
        return state


def encode_valset_value(epoch: int, validators: Sequence[codec.Validator]) -> bytes:
    """The ``valset`` entry: ``rlp([epoch, set])`` of the last accepted set (PoPs included)."""
    return rlp.encode([epoch, list(validators)])


def decode_valset_value(value: bytes) -> tuple[int, list[codec.Validator]]:
    epoch, raw_set = rlp.decode(value)
    return codec.raw_int(epoch, "epoch"), codec.decode_validator_set(rlp.encode(raw_set))


def create_genesis(config: NodeConfig, now_ms: int) -> Genesis:
    """A new chain from the operator's options (seed: ``--seed`` or 32 random bytes)."""
    seed = config.seed if config.seed is not None else os.urandom(32)
    hash_fn = codec.hash_profile(config.hash_profile)
    validators = []
    for i in range(config.validators):
        secret = keys.validator_secret(seed, i)
        validators.append(
            codec.Validator(
                bls_pubkey=bls.sk_to_pk(secret), power=VALIDATOR_POWER, pop=bls.pop_prove(secret)
            )
        )
    validators.sort(key=lambda v: v.bls_pubkey)
    accounts = tuple(
        GenesisAccount(
            name=keys.account_name(i),
            address=keys.Account(
                keys.scheme_account_key(seed, i, config.account_scheme), hash_fn
            ).address,
            balances=dict(GENESIS_BALANCES),
        )
        for i in range(config.accounts)
    )
    notaries = sorted(keys.notary_address(keys.notary_key(seed, i)) for i in range(config.notaries))
    return Genesis(
        chain_id=config.chain_id,
        hash_profile=config.hash_profile,
        genesis_time_ms=now_ms,
        seed=seed,
        validators=tuple(validators),
        accounts=accounts,
        notary_threshold=config.notary_threshold,
        notaries=tuple(notaries),
        keyring_size=config.validators + KEYRING_SPARE,
        account_scheme=config.account_scheme,
    )


def _hex(data: bytes) -> str:
    return "0x" + data.hex()


def _unhex(text: str) -> bytes:
    return bytes.fromhex(text.removeprefix("0x"))


def save_genesis(genesis: Genesis, data_dir: Path) -> None:
    """Write ``genesis.json`` and the dev-secret files (mode 0600: they hold keys)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    document = {
        "chain_id": genesis.chain_id,
        "hash_profile": genesis.hash_profile,
        "account_scheme": genesis.account_scheme,
        "crypto": genesis.crypto,
        "genesis_time_ms": genesis.genesis_time_ms,
        "genesis_hash": _hex(genesis.hash()),
        "seed": _hex(genesis.seed),
        "keyring_size": genesis.keyring_size,
        "validators": [
            {"bls_pubkey": _hex(v.bls_pubkey), "power": v.power, "pop": _hex(v.pop)}
            for v in genesis.validators
        ],
        "accounts": [
            {"name": a.name, "address": _hex(a.address), "balances": a.balances}
            for a in genesis.accounts
        ],
        "notaries": {
            "threshold": genesis.notary_threshold,
            "members": [_hex(m) for m in genesis.notaries],
        },
    }
    accounts = [_account_secrets(genesis, i, a) for i, a in enumerate(genesis.accounts)]
    notary_keys = [keys.notary_key(genesis.seed, i) for i in range(len(genesis.notaries))]
    notaries = {
        "threshold": genesis.notary_threshold,
        "members": [
            {"address": _hex(keys.notary_address(k)), "secret": _hex(k.secret)} for k in notary_keys
        ],
    }
    _write(data_dir / GENESIS_FILE, document)
    _write(data_dir / ACCOUNTS_FILE, accounts)
    _write(data_dir / NOTARIES_FILE, notaries)


def _account_secrets(genesis: Genesis, index: int, account: GenesisAccount) -> dict[str, str]:
    """One ``accounts.json`` entry: the key fields are named after the chain's scheme."""
    key = genesis.account_key(index)
    scheme = genesis.account_scheme
    return {
        "name": account.name,
        "address": _hex(account.address),
        f"{scheme}_seed": _hex(bytes(key)),
        f"{scheme}_pubkey": _hex(keys.public_key(key)),
    }


def _write(path: Path, content: object) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(content, handle, indent=2)
        handle.write("\n")
    tmp.replace(path)


def load_genesis(data_dir: Path) -> Genesis | None:
    """The genesis of ``data_dir``, or ``None`` when the directory holds no chain yet."""
    path = data_dir / GENESIS_FILE
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text())
        genesis = Genesis(
            chain_id=doc["chain_id"],
            hash_profile=doc["hash_profile"],
            genesis_time_ms=int(doc["genesis_time_ms"]),
            seed=_unhex(doc["seed"]),
            validators=tuple(
                codec.Validator(
                    bls_pubkey=_unhex(v["bls_pubkey"]), power=int(v["power"]), pop=_unhex(v["pop"])
                )
                for v in doc["validators"]
            ),
            accounts=tuple(
                GenesisAccount(
                    name=a["name"],
                    address=_unhex(a["address"]),
                    balances={d: int(n) for d, n in a["balances"].items()},
                )
                for a in doc["accounts"]
            ),
            notary_threshold=int(doc["notaries"]["threshold"]),
            notaries=tuple(_unhex(m) for m in doc["notaries"]["members"]),
            keyring_size=int(doc["keyring_size"]),
            account_scheme=doc.get("account_scheme", schemes.ED25519),
        )
    except (KeyError, ValueError, TypeError) as err:
        raise ConfigError(f"{path} is not a devnet genesis: {err}") from err
    if genesis.account_scheme not in schemes.ACCOUNT_SCHEMES:
        raise ConfigError(f"{path}: unknown account scheme {genesis.account_scheme!r}")
    if _unhex(doc.get("genesis_hash", "")) != genesis.hash():
        raise ConfigError(f"{path} was edited: its genesis_hash no longer matches its content")
    return genesis


def check_matches(genesis: Genesis, config: NodeConfig) -> None:
    """Refuse a restart whose explicit options contradict the stored genesis."""
    stored = {
        "chain_id": genesis.chain_id,
        "validators": len(genesis.validators),
        "hash_profile": genesis.hash_profile,
        "account_scheme": genesis.account_scheme,
        "accounts": len(genesis.accounts),
        "notaries": len(genesis.notaries),
        "notary_threshold": genesis.notary_threshold,
        "seed": genesis.seed,
    }
    for name in sorted(config.explicit & stored.keys()):
        wanted = getattr(config, name)
        if wanted != stored[name]:
            shown = "(another seed)" if name == "seed" else repr(wanted)
            raise ConfigError(
                f"{config.data_dir} holds chain {genesis.chain_id!r} with {name}="
                f"{stored[name] if name != 'seed' else '(its seed)'}, not {shown}: "
                "use another --data directory for another chain"
            )
