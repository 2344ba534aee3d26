"""``ConformanceTarget``: what the kit must be told about one live chain.

The kit (``adapters.testing.suite``) is written once for every family; a
family supplies one ``ConformanceTarget`` subclass with what the seams cannot
express: how to build its adapter, how to make the chain emit a bridge event,
how to trust a first header out of band, and — optionally — malleations that
know the family's encoding (the generic byte flips here work for any family).

This module imports no pytest, so an adapter package may ship its target
without depending on the test runner.
"""

from __future__ import annotations

import hashlib
import inspect
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import replace

from core.seams import ChainAdapter, Closable
from core.types import ChainAction, HeaderUpdate, InclusionProof, SendIntent


class ConformanceTarget(ABC):
    """One live chain and the family knowledge the kit needs to exercise its adapter.

    CONTRACT: every ``async`` hook runs on the kit's one event loop, the loop
    on which ``make_adapter``'s adapter is used.
    """

    name: str = "chain"
    """A label for the summary (family and chain id, say)."""

    wait_timeout: float = 30.0
    """Seconds the kit waits for a submitted transaction to be committed."""

    header_span: int = 4
    """How many consecutive headers the range-verification check walks."""

    lowest_height: int = 1
    """The lowest height the node serves (a pruned node, a recording that starts late):
    the kit takes its checkpoints at or above it."""

    offline: bool = False
    """True for a target over recorded data, with no node that can act: the checks
    that need the chain to do something (cause a ``send_packet``, commit a
    submitted transaction) are skipped with that reason; every check of what was
    recorded (heights, headers, verification, tampering, bounds) still runs."""

    @abstractmethod
    def make_adapter(self) -> ChainAdapter:
        """A fresh adapter for the chain (the kit closes it with ``close_adapter``)."""

    @abstractmethod
    async def trigger_send_packet(self, adapter: ChainAdapter) -> bytes:
        """Cause one ``send_packet`` event on the chain; return its transaction's hash.

        CONTRACT: return as soon as the transaction is accepted; the kit waits for
        it (calling ``produce_block`` between polls).
        """

    @abstractmethod
    async def checkpoint(
        self, adapter: ChainAdapter, header: HeaderUpdate
    ) -> tuple[object, object]:
        """``(client_state, consensus_state)`` trusting ``header`` out of band.

        SECURITY: in production a checkpoint comes from governance or genesis;
        in the kit it is taken from the node itself, which is fine because the
        checks are about what is verified *after* it.
        """

    async def submittable_action(self, adapter: ChainAdapter) -> ChainAction:
        """A valid action the kit may submit twice (the second must not execute again).

        The default raises ``NotImplementedError``: the idempotency check then
        fails, naming this hook.
        """
        raise NotImplementedError(f"{type(self).__name__}.submittable_action")

    async def header_update(
        self, adapter: ChainAdapter, trusted_height: int, height: int
    ) -> HeaderUpdate:
        """The header at ``height`` with the evidence to verify it from ``trusted_height``.

        BFT families verify any header from an older trusted one with the header's
        own commit, so the default is ``adapter.header(height)``. Hash-chained
        families (EVM) need the ancestors in between and override this.
        """
        del trusted_height
        return await adapter.header(height)  # type: ignore[arg-type]

    async def produce_block(self, adapter: ChainAdapter) -> None:  # noqa: B027
        """Make the chain advance when it only moves on demand; a no-op by default."""

    def now(self) -> int:
        """Unix seconds handed to the light client (the kit never reads a clock itself)."""
        return int(time.time())

    def unknown_tx_hash(self) -> bytes:
        """A well-formed transaction hash the chain has never seen."""
        return hashlib.sha256(b"pjgw conformance: a transaction nobody sent").digest()

    def header_malleations(self, header: HeaderUpdate) -> Mapping[str, HeaderUpdate]:
        """Named copies of ``header``, each broken in one place, that must not verify.

        The defaults flip bytes of the encoding and of the evidence, and drop
        the evidence; families add targeted ones (a changed root, a removed signer).
        """
        return generic_header_malleations(header)

    def proof_malleations(self, proof: InclusionProof) -> Mapping[str, InclusionProof]:
        """Named copies of ``proof``, each broken in one place, that must not verify."""
        return generic_proof_malleations(proof)

    async def signed_send(self, adapter: ChainAdapter) -> tuple[SendIntent, bytes] | None:
        """A send on this chain signed as an API client signs one (not sent), with the
        ``SendIntent`` it carries; ``None`` (the default) when the family starts no
        transfers through the API: the kit then skips the source-transaction checks.

        CONTRACT: valid for the chain now (a funded account at its next nonce): on a
        live chain the kit submits it once, as the journaled action.
        """
        del adapter
        return None

    def signed_send_malleations(
        self, intent: SendIntent, raw: bytes
    ) -> Mapping[str, tuple[SendIntent, bytes]]:
        """Named ``(intent, raw)`` pairs, each broken in one place, that must be refused.

        The defaults change the sender and flip or cut the bytes; families add the
        fields their check compares (amount, receiver, timeouts…).
        """
        return generic_signed_send_malleations(intent, raw)

    async def close_adapter(self, adapter: ChainAdapter) -> None:
        """Release the adapter's connections (``aclose()`` when it is ``Closable``)."""
        if isinstance(adapter, Closable):
            result = adapter.aclose()
            if inspect.isawaitable(result):  # a synchronous aclose() passes the shape check too
                await result


def flip(data: bytes, at: int) -> bytes:
    """``data`` with the low bit of byte ``at`` (negative from the end) inverted."""
    if not data:
        return b"\x01"
    i = at % len(data)
    return data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :]


def generic_header_malleations(header: HeaderUpdate) -> dict[str, HeaderUpdate]:
    return {
        "header: last byte of the encoding flipped": replace(
            header, encoded=flip(header.encoded, -1)
        ),
        "header: a middle byte of the encoding flipped": replace(
            header, encoded=flip(header.encoded, len(header.encoded) // 2)
        ),
        "header: encoding truncated": replace(header, encoded=header.encoded[:-1]),
        "evidence: last byte flipped": replace(header, evidence=flip(header.evidence, -1)),
        "evidence: a middle byte flipped": replace(
            header, evidence=flip(header.evidence, len(header.evidence) // 2)
        ),
        "evidence: missing": replace(header, evidence=b""),
    }


def generic_proof_malleations(proof: InclusionProof) -> dict[str, InclusionProof]:
    cases = {
        "proof: value's last byte flipped": replace(proof, value=flip(proof.value, -1)),
        "proof: value's first byte flipped": replace(proof, value=flip(proof.value, 0)),
        "proof: key's last byte flipped": replace(proof, key=flip(proof.key, -1)),
        "proof: extra node appended": replace(proof, nodes=(*proof.nodes, bytes(32))),
    }
    if proof.nodes:
        cases["proof: first node flipped"] = replace(
            proof, nodes=(flip(proof.nodes[0], 0), *proof.nodes[1:])
        )
        cases["proof: last node dropped"] = replace(proof, nodes=proof.nodes[:-1])
    return cases


def generic_signed_send_malleations(
    intent: SendIntent, raw: bytes
) -> dict[str, tuple[SendIntent, bytes]]:
    return {
        "intent: another sender": (replace(intent, sender=flip(intent.sender, 0)), raw),
        "tx: last byte flipped": (intent, flip(raw, -1)),
        "tx: a middle byte flipped": (intent, flip(raw, len(raw) // 2)),
        "tx: truncated": (intent, raw[:-1]),
        "tx: empty": (intent, b""),
    }
