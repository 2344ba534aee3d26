"""The conservation law of one asset between two chains, as the circuit breaker reads it.

For an asset native to chain ``H`` travelling to chain ``V`` (route ``H -> V``, and
its vouchers coming back on ``V -> H``)::

    escrowed on H for V  ==  vouchers of "H/<denom>" on V  +  in flight

The chains give the first two terms; the store gives the third. A transfer is
**certainly in flight** when its packet is in a source block (the watcher recorded
it: ``source_height`` is set) and no action that could settle it on a chain has been
journaled yet: its state is one of :data:`IN_FLIGHT_STATES`. From ``attested`` on, the
delivery may be journaled and sent before the state moves (journal before send), and
from ``timed_out`` on the refund; such a transfer may already have landed, so it is
not counted (counting it could double it with the voucher it minted).

The breaker trips on a **deficit** only: ``vouchers + in flight > escrowed``, that
is vouchers or claims the escrow does not back (a forged mint). A surplus is not a
fault it can judge: anyone may pay into an escrow account on some families, and every
transfer the count leaves out (above) makes one. The count leaving those out is what
makes the check safe against the race between its reads (``docs/supervision.md``
"Circuit breakers"): read the chains first, then the store, and count only packets at
or below the source height read before the escrow.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.states import TransferState

IN_FLIGHT_STATES = frozenset(
    {
        TransferState.REQUESTED,  # with its packet recorded by the watcher
        TransferState.SOURCE_COMMITTED,
        TransferState.SOURCE_FINAL,
        TransferState.PROVEN,
        TransferState.HELD,  # held after its packet was proven (held before sending: no packet)
    }
)
"""States in which a transfer whose packet is on its source is certainly neither delivered
nor refunded: nothing that settles it has been journaled."""


@dataclass(frozen=True, slots=True)
class AssetLedger:
    """One asset's books across a pair of chains, read by the breaker.

    ``home``/``denom``: the asset where it is native; ``away``: the other chain;
    ``escrowed`` on ``home`` for ``away``; ``vouchers`` of ``home/denom`` on ``away``;
    ``out``: certainly in flight ``home -> away``; ``back``: vouchers burned on ``away``,
    certainly in flight home.
    """

    home: str
    away: str
    denom: str
    escrowed: int
    vouchers: int
    out: int
    back: int

    @property
    def voucher(self) -> str:
        return voucher_path(self.home, self.denom)

    @property
    def deficit(self) -> int:
        """``vouchers + in flight - escrowed`` (positive: claims the escrow does not back)."""
        return self.vouchers + self.out + self.back - self.escrowed

    def breaks(self, tolerance: int) -> bool:
        """True when the deficit exceeds ``tolerance`` (never raises)."""
        return self.deficit > tolerance

    def __str__(self) -> str:
        return (
            f"{self.denom} of {self.home}: escrowed {self.escrowed} for {self.away}, "
            f"vouchers {self.vouchers} ({self.voucher} on {self.away}) + in flight "
            f"{self.out + self.back} (out {self.out}, back {self.back}): deficit {self.deficit}"
        )


def voucher_path(home: str, denom: str) -> str:
    """The denomination of ``denom``'s voucher on the other chain: ``<home>/<denom>``."""
    return f"{home}/{denom}"


def home_denoms(home: str, away: str, out: dict[str, int], back: dict[str, int]) -> list[str]:
    """The denominations native to ``home`` that the pair ever carried, sorted: those sent
    ``home -> away`` that are not ``away``'s vouchers going home, and those sent back as
    ``home/<denom>`` vouchers (a forged voucher shows up here when it is cashed out)."""
    found = {d for d in out if not d.startswith(f"{away}/")}
    prefix = f"{home}/"
    found |= {d[len(prefix) :] for d in back if d.startswith(prefix)}
    return sorted(d for d in found if d)


__all__ = ["IN_FLIGHT_STATES", "AssetLedger", "home_denoms", "voucher_path"]
