"""What a family the hub only reads answers for the capabilities it does not have.

CometBFT, ChainMaker and FISCO BCOS chains are verified and read by the hub,
but the hub has no bridge or HTLC contract there, signs no transaction there
and starts no transfer there yet. The capabilities still exist on their
adapters (``docs/capabilities.md``), answering "none" or refusing with a reason
that names the family, so the code above asks instead of probing; this mixin is
that answer, written once.
"""

from __future__ import annotations

from typing import ClassVar

from core.errors import ConfigError, InvalidInput
from core.seams import AccountSigner, BridgeEndpoint, ChainTimingFigures, SourceTransactions
from core.swaps import HtlcEndpoint


class ReadOnlyFamily:
    """Mixin for the adapter class of a family the hub only reads."""

    family: ClassVar[str]
    chain_id: str

    @classmethod
    def validate_asset(cls, value: str, field: str = "asset") -> str:
        raise InvalidInput(f"{field}: {cls.family} chains hold no HTLC of the hub", field=field)

    @classmethod
    def account_signer(cls, secret: bytes) -> AccountSigner:
        raise InvalidInput(f"managed accounts do not exist for {cls.family} chains")

    def source_transactions(self) -> SourceTransactions | None:
        """None: transfers do not start from this family's chains through the API yet."""
        return None

    async def account_nonce(self, address: bytes) -> int:
        raise ConfigError(f"{self.chain_id}: the {self.family} adapter reads no account nonces")

    def htlc(self) -> HtlcEndpoint | None:
        return None

    def chain_timing(self) -> ChainTimingFigures | None:
        return None

    def bridge(self) -> BridgeEndpoint | None:
        return None


__all__ = ["ReadOnlyFamily"]
