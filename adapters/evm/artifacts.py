"""Compiled contract artifacts (``build/contracts/<Name>.json``) and their ABI codec.

``make contracts`` writes the artifacts with solc-js (``contracts/build.mjs``);
they are build outputs, never committed. Encoding and decoding go through
eth-abi directly: it is fast on hot paths (event decoding) and small.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_utils import event_abi_to_log_topic, function_abi_to_4byte_selector
from eth_utils.abi import collapse_if_tuple

from core.errors import BadEncoding, ConfigError, InvalidInput

REPO_ROOT = Path(__file__).resolve().parents[2]


def artifacts_dir() -> Path:
    """``PJGW_CONTRACTS_DIR`` when set, else ``build/contracts`` of the checkout."""
    configured = os.environ.get("PJGW_CONTRACTS_DIR")
    return Path(configured) if configured else REPO_ROOT / "build" / "contracts"


def _is_value_type(kind: str) -> bool:
    """An indexed argument of a value type is stored as itself; others as their hash."""
    return kind not in ("string", "bytes") and not kind.startswith("tuple") and "[" not in kind


def _types(params: list[dict[str, Any]]) -> list[str]:
    return [collapse_if_tuple(p) for p in params]


@dataclass(frozen=True)
class Artifact:
    """One compiled contract: ABI, creation and runtime bytecode."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    deployed_bytecode: bytes
    _functions: dict[str, dict[str, Any]] = field(init=False, repr=False, compare=False)
    _events: dict[bytes, dict[str, Any]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        functions: dict[str, dict[str, Any]] = {}
        for item in self.abi:
            if item["type"] == "function":
                if item["name"] in functions:
                    raise ConfigError(f"{self.name}.{item['name']} is overloaded; not supported")
                functions[item["name"]] = item
        events = {
            event_abi_to_log_topic(item): item
            for item in self.abi
            if item["type"] == "event" and not item.get("anonymous")
        }
        object.__setattr__(self, "_functions", functions)
        object.__setattr__(self, "_events", events)

    def function(self, name: str) -> dict[str, Any]:
        try:
            return self._functions[name]
        except KeyError:
            raise InvalidInput(f"{self.name} has no function {name!r}") from None

    def encode_deploy(self, *args: Any) -> bytes:
        """Creation bytecode followed by the encoded constructor arguments."""
        constructor = next((i for i in self.abi if i["type"] == "constructor"), None)
        types = _types(constructor["inputs"]) if constructor else []
        return self.bytecode + abi_encode(types, list(args))

    def encode_call(self, name: str, *args: Any) -> bytes:
        """Selector and ABI-encoded arguments of ``name(args)``."""
        fn = self.function(name)
        return function_abi_to_4byte_selector(fn) + abi_encode(_types(fn["inputs"]), list(args))

    def decode_output(self, name: str, data: bytes) -> Any:
        """The decoded return values: one value alone, several as a tuple."""
        outputs = _types(self.function(name)["outputs"])
        try:
            values = abi_decode(outputs, data)
        except Exception as err:  # eth-abi raises several unrelated classes
            raise BadEncoding(f"{self.name}.{name}: return data does not decode") from err
        return values[0] if len(values) == 1 else values

    def decode_log(self, topics: list[bytes], data: bytes) -> tuple[str, dict[str, Any]] | None:
        """``(event name, arguments)`` of a log of this contract, None for a foreign event.

        Indexed dynamic arguments (strings, bytes, structs) decode to their keccak hash.
        """
        if not topics:
            return None
        event = self._events.get(topics[0])
        if event is None:
            return None
        indexed = [i for i in event["inputs"] if i["indexed"]]
        plain = [i for i in event["inputs"] if not i["indexed"]]
        if len(indexed) != len(topics) - 1:
            return None
        try:
            decoded = abi_decode(_types(plain), data)
            values = dict(zip((p["name"] for p in plain), decoded, strict=True))
            for param, topic in zip(indexed, topics[1:], strict=True):
                kind = param["type"]
                value = abi_decode([kind], topic)[0] if _is_value_type(kind) else topic
                values[param["name"]] = value
        except Exception as err:
            raise BadEncoding(f"{self.name}.{event['name']}: log does not decode") from err
        return event["name"], values


def load_artifact(name: str, directory: Path | None = None) -> Artifact:
    """Read ``<directory>/<name>.json``; a missing file says to run ``make contracts``."""
    return _load(name, directory or artifacts_dir())


@cache
def _load(name: str, directory: Path) -> Artifact:
    path = directory / f"{name}.json"
    if not path.is_file():
        raise ConfigError(
            f"contract artifact {path} is missing: run `make contracts` "
            "(it installs solc-js with npm ci and compiles contracts/*.sol)"
        )
    try:
        raw = json.loads(path.read_text())
        return Artifact(
            name=raw["contractName"],
            abi=raw["abi"],
            bytecode=bytes.fromhex(raw["bytecode"].removeprefix("0x")),
            deployed_bytecode=bytes.fromhex(raw["deployedBytecode"].removeprefix("0x")),
        )
    except (ValueError, KeyError, TypeError) as err:
        raise ConfigError(f"contract artifact {path} is malformed: run `make contracts`") from err
