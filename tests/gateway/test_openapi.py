"""The OpenAPI document tells the truth: schemathesis against the app finds nothing, and the
committed ``docs/openapi.json`` is the served one.

schemathesis runs in-process (ASGI) with every check and the examples, coverage and fuzzing
phases per operation, then the stateful phase, against an app on a real SQLite store holding
a chain, a route and keys. Requests carry the key each operation needs (notary endpoints a
notary key, the rest an admin key); schemathesis also sends them without one
(``ignored_auth``).

Cases are derandomized (the same every run, so CI cannot flake on a new draw); a random
run of 150 examples per operation and 100 stateful ones also found nothing (2026-12-06).

One allowance, per operation and named here: ``positive_data_acceptance`` also accepts 422
where a request's validity depends on the hub's state or on cryptography, which no JSON
Schema can state (docs/api.md, "What the schema cannot say"). Everything that is a function
of the request alone is in the schema, and a schema-valid request refused for it fails.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from core.ids import ChainId
from core.records import ChainRecord, RouteProtocol, RouteRecord
from gateway.app import create_app
from gateway.openapi import STATUSES
from gateway.routes import api_routes
from gateway.settings import Settings
from gateway.store import SqlStore
from tests.gateway.helpers import EVM, PJ, ROUTE

REPO = Path(__file__).resolve().parents[2]
ADMIN = "openapi-test-admin-key"
AUDIT_KEY = "11" * 32
STATEFUL = (
    "POST /v1/transfers",  # a registered route, addresses of its families, a valid signature
    "POST /v1/swaps",  # registered chains, two distinct ones, addresses of their families
    "POST /v1/routes",  # registered source and destination, two distinct chains
    # the family's settings model is in the schema (oneOf by family), not its validators
    # (URL schemes, ...) nor that the settings' chain id equals the body's
    "POST /v1/chains",
    "POST /v1/notary/attestations",  # a signature that recovers to the notary over the digest
    "PUT /v1/risk/limits",  # a registered route
    # a registered route, entries that are addresses of its families, patterns that compile,
    # commands of the hub's PJGW_POLICY_SCANNERS, a policy that does not hold everything
    "PUT /v1/routes/{route_id}/policy",
    "POST /v1/routes/{route_id}/policy/dry-run",  # the same, and the sample's addresses
)
CONFIG = SchemathesisConfig.from_str(
    "\n".join(
        f'[[operations]]\ninclude-name = "{name}"\n'
        "checks.positive_data_acceptance.expected-statuses = "
        '["2xx", "401", "403", "404", "409", "422", "429"]\n'
        for name in STATEFUL
    )
)


def _app_and_notary_key() -> tuple[object, str]:
    folder = Path(tempfile.mkdtemp(prefix="pjgw-openapi-"))
    store = SqlStore(f"sqlite:///{folder / 'hub.db'}", sqlite_synchronous="NORMAL")
    store.migrate()
    store.upsert_chain(
        ChainRecord(ChainId(PJ), "pujiang", {"url": "http://pj.invalid", "chain_id": PJ})
    )
    store.upsert_route(RouteRecord(ROUTE, ChainId(PJ), ChainId(EVM), RouteProtocol.NOTARY))
    notary = store.create_api_key("notary-1", "notary", 1.0)
    hub = Settings(
        data_dir=folder,
        dev_api_key=ADMIN,
        rate_per_address=0,
        rate_per_key=0,
        audit_key=AUDIT_KEY,  # checkpoints are signed (without a key: 501, documented)
    )
    app = create_app(hub, store)
    app.state.sse_poll_seconds = 0.01
    return app, notary


APP, NOTARY = _app_and_notary_key()
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


def _key(path: str) -> str:
    return NOTARY if path.startswith("/v1/notary") else ADMIN


@schema.parametrize()
@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"X-API-Key": _key(case.path)})


def test_the_committed_spec_is_the_served_one(tmp_path: Path) -> None:
    served = create_app(Settings(data_dir=tmp_path)).openapi()
    committed = json.loads((REPO / "docs" / "openapi.json").read_text())
    assert committed == served, "regenerate: python -m gateway.openapi > docs/openapi.json"


def test_every_route_has_its_statuses_named(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path))
    routes = {(m, r.path_format) for r in api_routes(app) for m in r.methods}
    assert routes == set(STATUSES)


class _HubStateMachine(schema.as_state_machine()):  # type: ignore[misc]
    """Chains of calls linked by the ids one answer gives the next (schemathesis infers the
    links from the schema: a created transfer's ``id`` is a ``transfer_id``, ...)."""

    def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, object]:
        return {"headers": {"X-API-Key": _key(case.path)}}


TestStatefulPhase = _HubStateMachine.TestCase
TestStatefulPhase.settings = settings(
    max_examples=25,
    stateful_step_count=6,
    deadline=None,
    derandomize=True,  # the same cases every run: CI does not flake; a deeper random run
    suppress_health_check=list(HealthCheck),  # (150 examples, 100 stateful) found nothing
)
