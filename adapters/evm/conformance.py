"""The conformance kit's target for an EVM chain running ``contracts/Bridge.sol``.

What the seams cannot say about an EVM chain: a ``send_packet`` is a
``Bridge.sendNative`` call from the adapter's signer; a checkpoint is a header
the operator trusts by hash (taken from the node here, which is fine because
the kit checks what is verified *after* it); skipping verification needs the
ancestors between the trusted header and the new one (``header_update``), as an
EVM light client follows the parent-hash chain; dev chains (anvil) only advance
on demand, so ``produce_block`` mines one.

No pytest here: ``tests/evm/test_conformance.py`` runs the kit against anvil,
and a chain team runs it against its own node with
``pytest --pjgw-chain chain.toml --pyargs adapters.testing.configured``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import rlp
from eth_account import Account
from eth_utils import to_checksum_address
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from adapters.evm.adapter import EvmAdapter
from adapters.evm.artifacts import load_artifact
from adapters.evm.settings import EvmChainSettings
from adapters.testing.target import (
    ConformanceTarget,
    flip,
    generic_header_malleations,
    generic_signed_send_malleations,
)
from core.errors import ConfigError
from core.ids import ChainId
from core.records import TransferKind
from core.seams import ChainAdapter
from core.swaps import NATIVE_ASSET
from core.types import ChainAction, HeaderUpdate, SendIntent
from proofs.evm.header import decode_header
from proofs.hashing import keccak256


class EvmTargetOptions(BaseModel):
    """``[target_options]`` of a ``--pjgw-chain`` file for an EVM chain."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dest_chain: str = "pjgw-conformance"
    receiver: str = "0x" + "ab" * 20
    amount_wei: int = Field(1, ge=1)
    mine_blocks: bool = Field(False, description="anvil_mine between polls (dev chains)")
    wait_timeout: float = Field(30.0, gt=0)


class EvmTarget(ConformanceTarget):
    """A live EVM chain with the bridge deployed; the adapter's signer sends packets."""

    header_span = 4

    def __init__(self, settings: EvmChainSettings, options: EvmTargetOptions) -> None:
        if settings.bridge_address is None:
            raise ConfigError("the EVM conformance target needs bridge_address")
        self.settings = settings
        self.options = options
        self.name = f"evm:{settings.chain}"
        self.wait_timeout = options.wait_timeout
        self._clock_offset = 0

    def make_adapter(self) -> ChainAdapter:
        return EvmAdapter(self.settings)

    def _send_native(self, key_prefix: str) -> ChainAction:
        """``Bridge.sendNative(dest, receiver, 0, now + 1 h)`` with ``amount_wei`` attached."""
        o = self.options
        receiver = bytes.fromhex(o.receiver.removeprefix("0x"))
        return ChainAction(
            "bridge.sendNative",
            {"args": [o.dest_chain, receiver, 0, self.now() + 3600], "value": o.amount_wei},
            idempotency_key=f"{key_prefix}-{time.time_ns()}",
        )

    async def trigger_send_packet(self, adapter: ChainAdapter) -> bytes:
        return await adapter.submit(self._send_native("conformance-send"))

    async def submittable_action(self, adapter: ChainAdapter) -> ChainAction:
        """A ``sendNative`` with a fixed idempotency key: the adapter must send it once."""
        return self._send_native("conformance-idempotent")

    async def signed_send(self, adapter: ChainAdapter) -> tuple[SendIntent, bytes] | None:
        """``Bridge.sendNative`` signed as an API client signs it (EIP-1559, the signer
        key's next pending nonce), not sent; None without a signer key."""
        evm = _evm(adapter)
        if self.settings.signer_key is None or self.settings.bridge_address is None:
            return None
        o = self.options
        key = self.settings.signer_key.get_secret_value()
        sender = Account.from_key(key).address
        deadline = self.now() + 3600
        receiver = bytes.fromhex(o.receiver.removeprefix("0x"))
        data = load_artifact("Bridge").encode_call(
            "sendNative", o.dest_chain, receiver, 0, deadline
        )
        nonce = int(await evm.reader.call("eth_getTransactionCount", sender, "pending"), 16)
        quote = await evm.fees.quote()
        tx: dict[str, Any] = {
            "chainId": self.settings.evm_chain_id,
            "nonce": nonce,
            "to": to_checksum_address(self.settings.bridge_address),
            "value": o.amount_wei,
            "data": data,
            "gas": 400_000,
        }
        tx |= quote.tx_fields()
        raw = bytes(Account.sign_transaction(tx, key).raw_transaction)
        intent = SendIntent(
            kind=TransferKind.ASSET,
            source_chain=evm.chain_id,
            dest_chain=ChainId(o.dest_chain),
            sender=bytes.fromhex(sender[2:]),
            receiver=receiver,
            denom=NATIVE_ASSET,
            amount=o.amount_wei,
            timeout_time_ms=deadline * 1000,
        )
        return intent, raw

    def signed_send_malleations(
        self, intent: SendIntent, raw: bytes
    ) -> Mapping[str, tuple[SendIntent, bytes]]:
        """The generic ones, plus each field of the intent the ``sendNative`` call carries."""
        changed = {
            "amount": replace(intent, amount=intent.amount + 1),
            "receiver": replace(intent, receiver=flip(intent.receiver, 0)),
            "dest_chain": replace(intent, dest_chain=ChainId(f"{intent.dest_chain}-x")),
            "timeout_height": replace(intent, timeout_height=intent.timeout_height + 1),
            "timeout_time_ms": replace(intent, timeout_time_ms=intent.timeout_time_ms + 1000),
            "denom (a token)": replace(intent, denom="0x" + "70" * 20),
            "kind (a message)": replace(intent, kind=TransferKind.MESSAGE, amount=0, payload=b"x"),
        }
        cases = dict(generic_signed_send_malleations(intent, raw))
        cases.update({f"intent: {name}": (bad, raw) for name, bad in changed.items()})
        return cases

    async def checkpoint(
        self, adapter: ChainAdapter, header: HeaderUpdate
    ) -> tuple[object, object]:
        evm = _evm(adapter)
        client = evm.light_client()
        consensus = client.consensus_state_from_checkpoint(
            evm.chain_id, decode_header(header.encoded), header.hash
        )
        # The kit's clock is the chain's: anvil's block times may run ahead of the wall.
        self._clock_offset = max(self._clock_offset, header.time - int(time.time()))
        return evm.settings.client_state(), consensus

    async def header_update(
        self, adapter: ChainAdapter, trusted_height: int, height: int
    ) -> HeaderUpdate:
        return await _evm(adapter).header_update(trusted_height, height)

    def header_malleations(self, header: HeaderUpdate) -> Mapping[str, HeaderUpdate]:
        """The generic flips, plus a header re-hashed with another parent or number.

        With a confirmation depth of 0 an adjacent header needs no evidence (its
        parent hash is the link), so "evidence: missing" is the same update as the
        real one and is left out only in that case.
        """
        cases = generic_header_malleations(header)
        ancestors, descendants = rlp.decode(header.evidence) if header.evidence else ([], [])
        if not ancestors and not descendants:
            cases.pop("evidence: missing", None)
        fields = list(rlp.decode(header.encoded))

        def rehashed(index: int, value: bytes) -> HeaderUpdate:
            changed = [*fields[:index], value, *fields[index + 1 :]]
            encoded = rlp.encode(changed)
            return replace(header, encoded=encoded, hash=keccak256(encoded))

        cases["header: parent hash changed, re-hashed"] = rehashed(0, flip(fields[0], 0))
        cases["header: number changed, re-hashed"] = rehashed(8, rlp.encode(header.height + 1)[1:])
        return cases

    async def produce_block(self, adapter: ChainAdapter) -> None:
        if self.options.mine_blocks:
            await _evm(adapter).reader.call("anvil_mine", "0x1")

    def now(self) -> int:
        return int(time.time()) + self._clock_offset + 60


def target_from_config(options: Mapping[str, Any], target_options: Mapping[str, Any]) -> EvmTarget:
    """The target of a ``--pjgw-chain`` file; ``ConfigError`` without echoing any value."""
    try:
        settings = EvmChainSettings(**options)
        parsed = EvmTargetOptions(**target_options)
    except ValidationError as err:
        fields = ", ".join(".".join(map(str, e["loc"])) for e in err.errors(include_input=False))
        raise ConfigError(f"invalid EVM chain options: {fields}") from None
    return EvmTarget(settings, parsed)


def _evm(adapter: ChainAdapter) -> EvmAdapter:
    if not isinstance(adapter, EvmAdapter):
        raise ConfigError("the EVM target drives an EvmAdapter")
    return adapter
