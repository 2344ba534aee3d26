"""Compiled contract artifacts (``build/contracts/<Name>.json``) and their ABI codec.

``make contracts`` writes the artifacts with solc-js (``contracts/build.mjs``);
they are build outputs, never committed. Encoding and decoding go through
eth-abi directly, except the canonical encodings of event arguments, which every listed
bridge log pays: ``abi_fast`` reads those (held equal to eth-abi, which decodes or refuses
everything else), each event's argument lists worked out once (issue #15).
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

from adapters.evm import abi_fast
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
    _codecs: dict[bytes, _EventCodec] = field(init=False, repr=False, compare=False)

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
        codecs = {topic: _EventCodec.of(event) for topic, event in events.items()}
        object.__setattr__(self, "_codecs", codecs)

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
        codec = self._codecs.get(topics[0])
        if codec is None:
            return None
        if len(codec.indexed) != len(topics) - 1:
            return None
        try:
            decoded = codec.data(data)
            if decoded is None:
                decoded = abi_decode(codec.plain_types, data)
            values = dict(zip(codec.plain_names, decoded, strict=True))
            for (name, kind, fast), topic in zip(codec.indexed, topics[1:], strict=True):
                if kind is None:  # an indexed string, bytes or struct: its hash
                    values[name] = topic
                    continue
                value = fast(topic)
                values[name] = value[0] if value is not None else abi_decode([kind], topic)[0]
        except Exception as err:
            raise BadEncoding(f"{self.name}.{codec.name}: log does not decode") from err
        return codec.name, values

    def reference_decode_log(
        self, topics: list[bytes], data: bytes
    ) -> tuple[str, dict[str, Any]] | None:
        """``decode_log`` by eth-abi alone for every argument (the code before ``abi_fast``):
        the reference the tests hold ``decode_log`` equal to, and the benchmark's baseline."""
        event = self._events.get(topics[0]) if topics else None
        if event is None:
            return None
        indexed = [i for i in event["inputs"] if i["indexed"]]
        plain = [i for i in event["inputs"] if not i["indexed"]]
        if len(indexed) != len(topics) - 1:
            return None
        try:
            decoded = abi_decode([collapse_if_tuple(p) for p in plain], data)
            values = dict(zip((p["name"] for p in plain), decoded, strict=True))
            for param, topic in zip(indexed, topics[1:], strict=True):
                kind = param["type"]
                value = abi_decode([kind], topic)[0] if _is_value_type(kind) else topic
                values[param["name"]] = value
        except Exception as err:
            raise BadEncoding(f"{self.name}.{event['name']}: log does not decode") from err
        return event["name"], values


@dataclass(frozen=True)
class _EventCodec:
    """One event's decoding, worked out once: its indexed and plain arguments, and the
    canonical-encoding decoders of ``abi_fast`` (eth-abi's ``decode`` when they answer
    None); the lists were rebuilt and the types collapsed on every log before."""

    name: str
    indexed: tuple[tuple[str, str | None, abi_fast.Decoder], ...]
    """Name, type (None: kept as the topic, a hash) and fast decoder of each indexed one."""
    plain_names: tuple[str, ...]
    plain_types: tuple[str, ...]
    data: abi_fast.Decoder

    @classmethod
    def of(cls, event: dict[str, Any]) -> _EventCodec:
        indexed: list[tuple[str, str | None, abi_fast.Decoder]] = []
        for param in (i for i in event["inputs"] if i["indexed"]):
            kind = param["type"] if _is_value_type(param["type"]) else None
            fast = abi_fast.decoder([kind]) if kind is not None else None
            indexed.append((param["name"], kind, fast or _defer))
        plain = [i for i in event["inputs"] if not i["indexed"]]
        types = _types(plain)
        return cls(
            event["name"],
            tuple(indexed),
            tuple(p["name"] for p in plain),
            tuple(types),
            abi_fast.decoder(types) or _defer,
        )


def _defer(_data: bytes) -> None:
    """The fast decoder of types ``abi_fast`` does not handle: always eth-abi's decode."""
    return None


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
