"""The machinery every transfer check plugs into: build the hub's checks, screen, hold, release.

A transfer is screened once, where it first becomes the hub's business: at the API
when an application creates it (``origin="api"``, nothing sent on the source yet) or,
for a packet sent on the source without the API, by the relayer once it is ``proven``
(``origin="source"``). :func:`hub_checks` is the ONE list of checks the hub runs inside
the screening transaction (the risk limits, over the window it read);
:func:`outside_checks` the ones that may block (the payload policies: a store read, maybe
a scanner process), run BEFORE that transaction so no lock is held while a scanner
runs, their verdicts handed in as ``prior``. :func:`decider` folds them all with
``core.holds.strictest``, and ``RiskStore.screen`` applies the verdict in the same
transaction that read the window (``gateway/store/risk.py``), so two relayers cannot
both take the last room of a window.

A held transfer is due again at its release time (``hold_until``): the route's worker
claims it then and screens it again (released, or held until a later time). A review
hold (no release time), and a hold whose owner cancelled it or a supervisor rejected it
after it left the source, is looked at every ``hold_recheck`` seconds only to move it to
``timed_out`` once its timeout passed (then refunded by the normal path); that look is
quiet (no history line unless something changed). ``docs/supervision.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from core.holds import Candidate, TransferCheck, Verdict, strictest
from core.records import RiskView, TransferRecord
from core.seams import PolicyStore, RiskStore
from core.states import TransferState
from relayer.risk.limits import LimitsCheck
from relayer.risk.policies import PolicyCheck

ChecksFactory = Callable[[RiskView], Sequence[TransferCheck]]
"""Builds the checks of one screening from the view the store read in its transaction."""


def hub_checks(view: RiskView) -> list[TransferCheck]:
    """The hub's checks in their stable order (ties in ``strictest`` keep the first):
    the route's risk limits. The payload policies run before the transaction
    (:func:`outside_checks`)."""
    return [LimitsCheck(view)]


def candidate_of(t: TransferRecord, origin: str) -> Candidate:
    """The facts a rule may look at, from a stored transfer."""
    return Candidate(
        transfer_id=t.id,
        route_id=t.route_id,
        origin="api" if origin == "api" else "source",
        sender=t.sender,
        receiver=t.receiver,
        denom=t.denom,
        amount=t.amount,
        payload=t.payload,
        created_at=t.created_at,
    )


def outside_checks(store: object) -> list[PolicyCheck]:
    """The checks run before the screening transaction, in their stable order: the route's
    payload policy when the store keeps policies (``core.seams.PolicyStore``)."""
    return [PolicyCheck(store)] if isinstance(store, PolicyStore) else []


def prior_verdicts(
    checks: Sequence[PolicyCheck],
    transfers: Sequence[TransferRecord],
    origin: str,
    now: float,
) -> dict[str, Verdict]:
    """The verdicts of ``checks`` on the transfers not admitted yet (blocking: run it off
    the event loop), handed to :func:`decider` as ``prior``; each check reads what it needs
    once per screening (``PolicyCheck.check_all``), not once per transfer."""
    todo = [t for t in transfers if t.admitted_at is None]
    if not checks or not todo:
        return {}
    candidates = [candidate_of(t, origin) for t in todo]
    answers = [check.check_all(candidates, now) for check in checks]
    return {t.id: strictest(a[i] for a in answers) for i, t in enumerate(todo)}


def decider(
    origin: str,
    now: float,
    checks: ChecksFactory = hub_checks,
    prior: Mapping[str, Verdict] | None = None,
) -> Callable[[TransferRecord, RiskView], Verdict]:
    """What ``RiskStore.screen`` asks about each transfer: the strictest verdict of the
    checks built over the view it read and of the ``prior`` verdicts (limits first, so a
    tie names the limit)."""

    def decide(t: TransferRecord, view: RiskView) -> Verdict:
        candidate = candidate_of(t, origin)
        verdicts = [check.check(candidate, now) for check in checks(view)]
        if prior:
            verdicts.append(prior.get(t.id))
        return strictest(verdicts)

    return decide


def screen(
    store: RiskStore,
    transfers: Sequence[TransferRecord],
    expected: TransferState,
    origin: str,
    now: float,
    *,
    recheck: float,
    checks: ChecksFactory = hub_checks,
    worker: str | None = None,
) -> list[TransferRecord]:
    """Screen ``transfers`` (all in ``expected``) in one store transaction; the records after
    (admitted ones unchanged but for ``admitted_at``, others ``held`` or ``rejected``)."""
    ids = [t.id for t in transfers if t.admitted_at is None]
    if not ids:
        return list(transfers)
    prior = prior_verdicts(outside_checks(store), transfers, origin, now)
    after = {
        r.id: r
        for r in store.screen(
            ids,
            expected,
            origin,
            decider(origin, now, checks, prior),
            now,
            recheck_at=now + recheck,
            worker=worker,
        )
    }
    return [after.get(t.id, t) for t in transfers]


__all__ = [
    "ChecksFactory",
    "candidate_of",
    "decider",
    "hub_checks",
    "outside_checks",
    "prior_verdicts",
    "screen",
]
