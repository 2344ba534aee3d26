"""``/v1/chains`` and ``/v1/routes``: what the hub connects, and its light clients.

A chain is registered with a family from the adapter registry; its settings
are validated by that family's own settings model (the type of the adapter's
``settings`` parameter, or its ``settings_model`` attribute), without reading
the environment. Responses redact every secret: fields the model types as
``SecretStr``, keys named like secrets, and passwords inside URLs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, SecretStr, ValidationError

from adapters.follower import client_expiry
from adapters.registry import Registry
from adapters.sdk import settings_model_of
from core.errors import InvalidInput, NotFound, PjgwError
from core.ids import ChainId
from core.records import ChainRecord, ClientRecord, RouteRecord
from core.seams import Store
from gateway.auth import Principal, admin_access, read_access
from gateway.routers.deps import Catalog, adapter_for, get_catalog, get_clock, get_store
from gateway.schemas.chains import ChainIn, ChainOut, ClientOut, RouteIn, RouteOut

router = APIRouter(prefix="/v1", tags=["chains"])

REDACTED = "**********"
_SECRET_NAME = re.compile(r"(key|secret|password|passwd|token|seed|mnemonic|credential)", re.I)
_URL_USERINFO = re.compile(r"^([a-z][a-z0-9+.-]*://)[^/@\s]*@", re.I)


def settings_model(registry: Registry, family: str) -> type[BaseModel]:
    """The pydantic model that validates a ``family`` chain's settings."""
    if family not in registry.adapters and family not in registry.broken:
        known = ", ".join(sorted(registry.adapters)) or "none"
        raise InvalidInput(f"no adapter for family {family!r} (installed: {known})", field="family")
    model = settings_model_of(registry.load(family))
    if model is None:
        raise InvalidInput(f"the {family} adapter names no settings model", field="family")
    return model


def validate_settings(model: type[BaseModel], chain_id: str, settings: dict[str, Any]) -> BaseModel:
    """``model_validate`` (no environment); errors name fields, never values."""
    try:
        validated = model.model_validate(settings)
    except ValidationError as err:
        errors = err.errors(include_input=False, include_url=False, include_context=False)
        first = errors[0] if errors else {"loc": (), "msg": "invalid"}
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise InvalidInput(f"settings.{where}: {first['msg']}", field=f"settings.{where}") from None
    declared = getattr(validated, "chain_id", None)
    if declared is not None and str(declared) != chain_id:
        raise InvalidInput(
            f"settings name chain {declared!r}, the body {chain_id!r}", field="settings"
        )
    return validated


def redact(model: type[BaseModel] | None, settings: dict[str, Any]) -> dict[str, Any]:
    secret_fields = set()
    if model is not None:
        for name, info in model.model_fields.items():
            if "SecretStr" in repr(info.annotation) or info.annotation is SecretStr:
                secret_fields.add(name)
    out: dict[str, Any] = {}
    for key, value in settings.items():
        if key in secret_fields or _SECRET_NAME.search(key):
            out[key] = REDACTED if value is not None else None
        elif isinstance(value, str):
            out[key] = _URL_USERINFO.sub(lambda m: m.group(1) + REDACTED + "@", value)
        elif isinstance(value, dict):
            out[key] = redact(None, value)
        else:
            out[key] = value
    return out


def _registry(request: Request) -> Registry:
    return request.app.state.get_registry()  # type: ignore[no-any-return]


def _chain_out(registry: Registry, chain: ChainRecord) -> ChainOut:
    try:
        model: type[BaseModel] | None = settings_model(registry, chain.family)
    except Exception:  # an uninstalled family still lists, redacted by name
        model = None
    return ChainOut.of(chain, redact(model, dict(chain.settings)))


@router.get("/chains", response_model=list[ChainOut])
def list_chains(
    request: Request,
    store: Annotated[Store, Depends(get_store)],
    _: Annotated[Principal | None, Depends(read_access)],
) -> list[ChainOut]:
    registry = _registry(request)
    return [_chain_out(registry, c) for c in store.chains()]


@router.post("/chains", status_code=201, response_model=ChainOut)
def register_chain(
    request: Request,
    response: Response,
    body: ChainIn,
    store: Annotated[Store, Depends(get_store)],
    catalog: Annotated[Catalog, Depends(get_catalog)],
    _: Annotated[Principal, Depends(admin_access)],
) -> ChainOut:
    registry = _registry(request)
    model = settings_model(registry, body.family)
    validate_settings(model, body.chain_id, body.settings)
    chain_id = ChainId(body.chain_id)
    existed = any(c.chain_id == chain_id for c in store.chains())
    record = ChainRecord(chain_id, body.family, dict(body.settings), body.enabled)
    store.upsert_chain(record)
    catalog.invalidate()
    if existed:
        response.status_code = 200
    return ChainOut.of(record, redact(model, record.settings))


@router.get("/chains/{chain_id}/client", response_model=ClientOut)
def chain_client(
    request: Request,
    chain_id: str,
    store: Annotated[Store, Depends(get_store)],
    clock: Annotated[Callable[[], float], Depends(get_clock)],
    _: Annotated[Principal | None, Depends(read_access)],
) -> ClientOut:
    """Trusted height, frozen (and why), and seconds left in the trusting period.

    ``expires_in`` is the trusted header's time plus the trusting period, minus
    the clock: both live in the family-encoded states, so the chain's
    ``ClientCodec`` reads them when this process has the chain's adapter (every
    chain of the hub's chains file); without one the period falls back to the
    chain's settings and ``expires_in`` is null. ``evidence`` is what the
    light-client follower froze on (the conflicting header with its commit).
    """
    chain = next((c for c in store.chains() if str(c.chain_id) == chain_id), None)
    if chain is None:
        raise NotFound(f"chain {chain_id!r} is not registered", chain_id=chain_id)
    client = store.client(chain.chain_id)
    if client is None:
        raise NotFound(f"chain {chain_id!r} has no light client yet", chain_id=chain_id)
    return client_status(request, chain, client, clock())


def client_status(
    request: Request, chain: ChainRecord, client: ClientRecord, now: float
) -> ClientOut:
    """``client`` with its trusting period and the seconds it has left at ``now`` (the
    API's answer and the dashboard's chains page)."""
    trusted_time, period = _trusted_time(request, chain, client)
    if period is None:
        period = chain.settings.get("trusting_period")
    if period is None:
        try:
            model = settings_model(_registry(request), chain.family)
            period = getattr(model.model_validate(chain.settings), "trusting_period", None)
        except Exception:  # the client status is still worth answering
            period = None
    expires_in = None
    if trusted_time is not None and period is not None:
        expires_in = max(0.0, float(trusted_time) + float(period) - now)
    return ClientOut.of(client, None if period is None else int(period), expires_in)


_TIMES: dict[tuple[str, bytes, bytes], tuple[float, int]] = {}
"""(trusted header time, trusting period) by (chain, client state, consensus state):
decoding checks keys again, so it is done once per distinct state."""


def _trusted_time(
    request: Request, chain: ChainRecord, client: ClientRecord
) -> tuple[float | None, int | None]:
    """Unix seconds of the trusted header and the client's trusting period, decoded by the
    chain's own ``ClientCodec`` (``adapters.follower.client_expiry``).

    ``app.state.consensus_time`` (``(chain, client) -> seconds | None``) overrides the
    time (tests; the period then comes from the settings); without an adapter of the
    chain in this process, or when the stored state does not decode, both are None
    rather than an error.
    """
    override = getattr(request.app.state, "consensus_time", None)
    if override is not None:
        value = override(chain, client)
        return (None if value is None else float(value)), None
    data = client.consensus_states.get(int(client.trusted_height))
    adapter = adapter_for(getattr(request.app.state, "adapters", None), str(chain.chain_id))
    if data is None or adapter is None:
        return None, None
    key = (str(chain.chain_id), client.client_state, data)
    if key not in _TIMES:
        try:
            codec = adapter.client_codec()
            state = codec.decode_consensus(data, codec.decode_client(client.client_state))
            expiry = client_expiry(codec, client, state)
        except PjgwError:
            return None, None
        if len(_TIMES) > 1024:
            _TIMES.clear()
        _TIMES[key] = (expiry.trusted_time, expiry.trusting_period)
    return _TIMES[key]


@router.get("/routes", response_model=list[RouteOut])
def list_routes(
    store: Annotated[Store, Depends(get_store)],
    _: Annotated[Principal | None, Depends(read_access)],
) -> list[RouteOut]:
    """Every route with what its relayers last reported (running, stopped and why)."""
    statuses = store.route_statuses()
    return [RouteOut.of(r, statuses) for r in store.routes()]


@router.post("/routes", status_code=201, response_model=RouteOut)
def register_route(
    response: Response,
    body: RouteIn,
    store: Annotated[Store, Depends(get_store)],
    catalog: Annotated[Catalog, Depends(get_catalog)],
    _: Annotated[Principal, Depends(admin_access)],
) -> RouteOut:
    known = {str(c.chain_id) for c in store.chains()}
    for name in ("source", "destination"):
        if getattr(body, name) not in known:
            raise InvalidInput(
                f"{name} chain {getattr(body, name)!r} is not registered", field=name
            )
    existed = any(r.route_id == body.route_id for r in store.routes())
    record = RouteRecord(
        route_id=body.route_id,
        source=ChainId(body.source),
        destination=ChainId(body.destination),
        protocol=body.protocol,
        settings=dict(body.settings),
        enabled=body.enabled,
    )
    store.upsert_route(record)
    catalog.invalidate()
    if existed:
        response.status_code = 200
    return RouteOut.of(record)


__all__ = ["client_status", "redact", "router", "settings_model", "validate_settings"]
