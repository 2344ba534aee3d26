"""The node's HTTP JSON API (version 1), exactly the table of ``docs/pujiang-chain.md``.

Byte strings travel as ``0x`` lower-case hex; headers, commits, sets, events
and transactions as the hex of their RLP, so a client verifies the very
bytes that were signed. Every input is bounded (a 1000-block event range, a
limit of 1000, 64 KiB transactions, a 256 KiB request body) and every error
is problem+json (``devnet.problems``).

Handlers are plain ``def``s: FastAPI runs them in its thread pool, so a block
being made (which holds the node's lock) never stalls the event loop.

Devnet extensions, outside the subchain API: ``GET /v1/accounts/{address}``
and, only in ``--faults`` mode, ``POST /v1/faults/equivocate``,
``POST /v1/faults/offline`` and ``POST /v1/faults/fork``.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Body, FastAPI, Path, Query, Response
from pydantic import BaseModel, Field, model_validator

from core.errors import Conflict, InvalidInput
from core.http_limits import InputBounds, InputLimits
from devnet.node import MAX_LIMIT, DevnetNode, hex0x
from devnet.problems import error_document, install_problem_handlers
from devnet.txs import MAX_TX_BYTES
from proofs.pujiang import codec

MAX_BODY_BYTES = 256 * 1024
MAX_BATCH_TXS = 1000
MAX_BATCH_BODY_BYTES = 4 * 1024 * 1024
"""``POST /v1/txs`` with a batch: at most 1,000 transactions in at most 4 MiB of JSON."""
MAX_HEIGHT = 2**63 - 1
_HEX = re.compile(r"^0x(?:[0-9a-fA-F]{2})*$")

HeightPath = Annotated[int, Path(ge=1, le=MAX_HEIGHT)]


def parse_hex(text: str, what: str, *, max_bytes: int, exact: bool = False) -> bytes:
    """``0x`` hex of at most (``exact``: exactly) ``max_bytes`` bytes, else ``InvalidInput``."""
    if len(text) > 2 + 2 * max_bytes:
        raise InvalidInput(f"{what} is longer than {max_bytes} bytes")
    if not _HEX.match(text):
        raise InvalidInput(f"{what} must be 0x-prefixed hex of whole bytes")
    data = bytes.fromhex(text[2:])
    if exact and len(data) != max_bytes:
        raise InvalidInput(f"{what} must be {max_bytes} bytes")
    return data


TxHex = Annotated[str, Field(max_length=2 + 2 * MAX_TX_BYTES, description="0x hex of a signed tx")]


class TxIn(BaseModel):
    """One transaction (``tx``) or a batch (``txs``), exactly one of the two."""

    tx: TxHex | None = None
    txs: list[TxHex] | None = Field(default=None, min_length=1, max_length=MAX_BATCH_TXS)

    @model_validator(mode="after")
    def _one_of(self) -> TxIn:
        if (self.tx is None) == (self.txs is None):
            raise ValueError("give exactly one of tx and txs")
        return self


class EquivocateIn(BaseModel):
    height: int | None = Field(default=None, ge=1, le=MAX_HEIGHT)
    signers: list[int] | None = Field(default=None, max_length=1024)
    round: int = Field(default=0, ge=0, le=2**31)


class ForkIn(BaseModel):
    first: int = Field(ge=1, le=MAX_HEIGHT)
    last: int | None = Field(default=None, ge=1, le=MAX_HEIGHT)


class OfflineIn(BaseModel):
    validators: list[int] = Field(max_length=1024)


def input_limits(body_seconds: float) -> InputLimits:
    """Every request bounded before parsing (``core.http_limits``): 256 KiB bodies, JSON at
    most 32 deep, 10,000 keys, 100-character numbers, 8 KiB targets, 100 headers (16 KiB)."""
    return InputLimits(
        body_bytes=MAX_BODY_BYTES,
        route_bodies={"POST /v1/txs": MAX_BATCH_BODY_BYTES},
        body_seconds=body_seconds,
    )


def _router(node: DevnetNode) -> APIRouter:
    router = APIRouter()

    @router.get("/healthz")
    def healthz() -> dict[str, object]:
        return {"status": "ok", "height": node.height}

    @router.get("/v1/status")
    def status() -> dict[str, object]:
        return node.query_status()

    @router.get("/v1/blocks/{height}")
    def block(height: HeightPath) -> dict[str, object]:
        return node.query_block(height)

    @router.get("/v1/validators/{height}")
    def validators(height: HeightPath) -> dict[str, object]:
        return node.query_validators(height)

    @router.get("/v1/events")
    def events(
        first: Annotated[int, Query(alias="from", ge=1, le=MAX_HEIGHT)],
        last: Annotated[int | None, Query(alias="to", ge=1, le=MAX_HEIGHT)] = None,
        kind: Annotated[str | None, Query(max_length=64)] = None,
        dest_chain: Annotated[str | None, Query(max_length=63)] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
        from_index: Annotated[int, Query(ge=0, le=2**32)] = 0,
    ) -> dict[str, object]:
        return node.query_events(first, last, kind, dest_chain, limit, from_index)

    @router.get("/v1/proofs/event/{height}/{index}")
    def event_proof(
        height: HeightPath, index: Annotated[int, Path(ge=0, le=2**32)]
    ) -> dict[str, object]:
        return node.query_event_proof(height, index)

    @router.get("/v1/proofs/events/{height}")
    def event_proofs(
        height: HeightPath,
        first: Annotated[int, Query(alias="from", ge=0, le=2**32)],
        last: Annotated[int, Query(alias="to", ge=0, le=2**32)],
    ) -> dict[str, object]:
        return node.query_event_proofs(height, first, last)

    @router.get("/v1/proofs/state")
    def state_proof(
        key: Annotated[str, Query(max_length=2 + 2 * 1024)],
        height: Annotated[int | None, Query(ge=1, le=MAX_HEIGHT)] = None,
    ) -> dict[str, object]:
        return node.query_state_proof(parse_hex(key, "key", max_bytes=1024), height)

    @router.post(
        "/v1/txs",
        status_code=202,
        responses={200: {"description": "a batch (txs): one result per transaction, in order"}},
    )
    def submit(body: TxIn, response: Response) -> dict[str, object]:
        """202 ``{tx_hash}`` for ``tx``; 200 ``{results}`` for ``txs``, one per entry in order:
        ``{status: 202, tx_hash}`` or the entry's problem (an entry's refusal stops nothing)."""
        if body.tx is not None:
            raw = parse_hex(body.tx, "tx", max_bytes=MAX_TX_BYTES)
            return {"tx_hash": hex0x(node.submit(raw))}
        response.status_code = 200
        return {"results": _submit_batch(node, body.txs or [])}

    @router.get("/v1/txs/{tx_hash}")
    def tx(tx_hash: Annotated[str, Path(max_length=66)]) -> dict[str, object]:
        return node.query_tx(parse_hex(tx_hash, "tx_hash", max_bytes=32, exact=True))

    @router.post("/v1/blocks")
    def make_block() -> dict[str, object]:
        if node.config.block_time is not None and not node.config.instant:
            raise Conflict("this node makes blocks on its timer; POST /v1/blocks needs --instant")
        tip = node.produce_block()
        return {"height": tip.height, "hash": hex0x(tip.hash)}

    @router.get("/v1/supply")
    def supply(denom: Annotated[str, Query(min_length=1, max_length=256)]) -> dict[str, object]:
        """Devnet extension: the total of ``denom`` held by all accounts (read-only)."""
        return node.query_supply(denom.encode())

    @router.get("/v1/accounts/{address}")
    def account(address: Annotated[str, Path(max_length=42)]) -> dict[str, object]:
        return node.query_account(parse_hex(address, "address", max_bytes=20, exact=True))

    return router


def _submit_batch(node: DevnetNode, texts: list[str]) -> list[dict[str, object]]:
    """Each entry's answer: malformed hex is refused alone, the rest go to the node at once."""
    answers: list[dict[str, object] | None] = []
    raws: list[bytes] = []
    for index, text in enumerate(texts):
        try:
            raws.append(parse_hex(text, "tx", max_bytes=MAX_TX_BYTES))
            answers.append(None)
        except InvalidInput as err:
            answers.append(error_document(err, f"/v1/txs#{index}"))
    outcomes = iter(node.submit_many(raws))
    for index, answer in enumerate(answers):
        if answer is None:
            outcome = next(outcomes)
            answers[index] = (
                {"status": 202, "tx_hash": hex0x(outcome)}
                if isinstance(outcome, bytes)
                else error_document(outcome, f"/v1/txs#{index}")
            )
    return [a for a in answers if a is not None]


def _faults_router(node: DevnetNode) -> APIRouter:
    router = APIRouter(prefix="/v1/faults")

    @router.post("/equivocate")
    def equivocate(body: Annotated[EquivocateIn | None, Body()] = None) -> dict[str, object]:
        body = body or EquivocateIn()
        header, commit = node.equivocate(body.height, body.signers, body.round)
        return {
            "height": header.height,
            "hash": hex0x(commit.header_hash),
            "header": hex0x(codec.encode(header)),
            "commit": hex0x(codec.encode(commit)),
        }

    @router.post("/fork")
    def fork(body: ForkIn) -> dict[str, object]:
        """Serve a second valid header at each height of a range from now on
        (``DevnetNode.serve_fork``)."""
        return {"heights": node.serve_fork(body.first, body.last)}

    @router.post("/offline")
    def offline(body: OfflineIn) -> dict[str, object]:
        return {"offline": node.set_offline(body.validators)}

    return router


def create_app(node: DevnetNode) -> FastAPI:
    """The node's API; the caller owns the node (its start, stop and close)."""
    app = FastAPI(
        title="Pujiang devnet node",
        version="1",
        summary="Reference Pujiang subchain node (docs/pujiang-chain.md)",
    )
    app.state.node = node
    install_problem_handlers(app)
    app.include_router(_router(node))
    if node.config.faults:
        app.include_router(_faults_router(node))
    app.add_middleware(InputBounds, limits=input_limits(node.config.request_seconds))
    return app
