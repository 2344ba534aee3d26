"""``/v1/routes/{route_id}/policy``: a route's payload policy (``docs/supervision.md``).

``GET`` (supervisor or admin) reads it; ``PUT`` (admin) replaces it whole:
validated field by field (422 naming ``rules[i].field``; an unknown route is 422
on ``route_id``, as a body naming it would be), sender and receiver entries
normalized by their chain's family, and refused (422 ``policy-too-broad``) when
it would hold or reject every transfer of the route unless ``force`` is true.
``POST …/policy/dry-run`` (supervisor or admin) evaluates a sample candidate
against the stored policy or proposed rules, scanners included, and creates
nothing. A scanner rule may name only a command of the hub's
``PJGW_POLICY_SCANNERS`` (an API key never picks what the hub's machine runs).
Writes (``policy.set``) and dry runs (``policy.dry_run``) are audited under the
calling key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from core.errors import PolicyTooBroad
from core.holds import Candidate
from core.policies import PayloadPolicy, PolicyRule
from gateway.auth import Principal, admin_access, supervisor_access
from gateway.families import Families
from gateway.routers.deps import Catalog, get_catalog, get_clock, get_families, get_store
from gateway.schemas.policies import DryRunIn, DryRunOut, PolicyIn, PolicyOut, RuleIn, VerdictOut
from relayer.risk.policies import evaluate
from relayer.risk.policy_rules import Normalize, broad_rules, validate_rules

router = APIRouter(prefix="/v1/routes", tags=["policies"])

Clock = Annotated[Callable[[], float], Depends(get_clock)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]
FamiliesDep = Annotated[Families, Depends(get_families)]


def _normalizer(catalog: Catalog, families: Families, route_id: str) -> Normalize:
    """Sender entries as the source chain's family writes them, receivers the destination's."""
    route = catalog.route(route_id)
    source = catalog.chain(str(route.source)).family
    dest = catalog.chain(str(route.destination)).family

    def normalize(kind: str, value: str, field: str) -> str:
        if kind == "sender":
            return families.validate_address(source, value, field)
        if kind == "receiver":
            return families.validate_address(dest, value, field)
        return value

    return normalize


def _rules(request: Request, raw: list[RuleIn], normalize: Normalize) -> tuple[PolicyRule, ...]:
    return validate_rules(
        [r.model_dump(exclude_unset=True) for r in raw],
        normalize=normalize,
        scanners=_scanners(request),
    )


def _scanners(request: Request) -> frozenset[str]:
    """The scanner commands this hub lets policies run (``PJGW_POLICY_SCANNERS``): an API
    key never chooses what runs on the hub's machine beyond them."""
    return frozenset(request.app.state.settings.policy_scanners)


@router.get("/{route_id}/policy", response_model=PolicyOut)
def get_policy(
    request: Request, route_id: str, _: Annotated[Principal, Depends(supervisor_access)]
) -> PolicyOut:
    """The route's rules in order (version 0 and none when no policy was set); 404 unknown."""
    return PolicyOut.of(get_store(request).payload_policy(route_id))  # type: ignore[attr-defined]


@router.put("/{route_id}/policy", response_model=PolicyOut)
def put_policy(
    request: Request,
    route_id: str,
    body: PolicyIn,
    clock: Clock,
    catalog: CatalogDep,
    families: FamiliesDep,
    _: Annotated[Principal, Depends(admin_access)],
) -> PolicyOut:
    """Replace the route's policy (``policy.set``); it applies to the checks made after it."""
    rules = _rules(request, body.rules, _normalizer(catalog, families, route_id))
    broad = broad_rules(rules)
    if broad and not body.force:
        index, why = broad[0]
        raise PolicyTooBroad(
            f"rule {rules[index].name!r} would hold or reject every transfer of route "
            f"{route_id!r} ({why}); send force=true to write it anyway",
            field=f"rules[{index}]",
        )
    store: Any = get_store(request)
    written = store.set_payload_policy(
        route_id, rules, clock(), expected_version=body.expected_version, forced=bool(broad)
    )
    return PolicyOut.of(written)


@router.post("/{route_id}/policy/dry-run", response_model=DryRunOut)
def dry_run(
    request: Request,
    route_id: str,
    body: DryRunIn,
    clock: Clock,
    catalog: CatalogDep,
    families: FamiliesDep,
    _: Annotated[Principal, Depends(supervisor_access)],
) -> DryRunOut:
    """What the stored policy (or ``rules``, not written) would say of ``candidate``
    (``policy.dry_run``); nothing else is created or changed."""
    normalize = _normalizer(catalog, families, route_id)
    store: Any = get_store(request)
    if body.rules is None:
        policy = store.payload_policy(route_id)
    else:
        policy = PayloadPolicy(route_id, 0, _rules(request, body.rules, normalize))
    c = body.candidate
    candidate = Candidate(
        transfer_id="dry-run",
        route_id=route_id,
        origin=c.origin,
        sender=normalize("sender", c.sender, "candidate.sender"),
        receiver=normalize("receiver", c.receiver, "candidate.receiver"),
        denom=c.denom,
        amount=int(c.amount),
        payload=bytes.fromhex(c.payload[2:]),
        content_type=c.content_type,
    )
    decision = evaluate(policy, candidate, scanners=_scanners(request))
    verdict = VerdictOut.of(decision.verdict).model_dump(exclude_none=True)
    proposed = body.rules is not None
    store.record_policy_dry_run(route_id, None if proposed else policy.version, verdict, clock())
    return DryRunOut.of(decision, proposed)
