"""A recording of a CometBFT node's RPC answers, assembled from REAL signed light blocks.

No CometBFT node can run here (no binary, no internet), so recorded real data
stands in for one: ``CometBftRecording`` is an ``httpx.MockTransport`` that
answers the JSON-RPC calls the adapter makes (``status``, ``commit``,
``validators``, ``tx``) in the shapes CometBFT v0.38 writes, from the
tendermint-rs model-based vectors in ``../shared/vectors/cometbft-light-client/``
(really signed ed25519 commits; see its PROVENANCE.md). The files are read at
test time through ``vectors_dir()``, never copied.

What is and is not in it:

* headers, commits and validator sets are the vectors' bytes as they are. The
  validator set at height ``h + 1`` is the set block ``h`` names as its next
  one (hash-checked by the light client, and checked here against block
  ``h + 1``'s own set when both exist); the first block's own set is taken from
  its next set only when its header says they hash the same;
* the steps a vector marks ``INVALID`` are left out (a node serves one chain);
* errors are CometBFT's own messages: a height above the tip or below the
  lowest recorded one, a transaction hash (the recording holds no transaction);
* there are no ``block_results``, ``block`` or ``abci_query`` answers: the
  vectors hold no transactions, events or state proofs, and none is made up.
  Those calls answer a JSON-RPC error naming the recording, so a check that
  needs them fails loudly instead of passing on invented data.

Note: the model-generated blocks are not hash-linked (``last_block_id`` does
not name the previous block); CometBFT's light client never checks that link,
so verification is unaffected.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx

MODEL_BASED = Path("cometbft-light-client/tendermint-rs/model_based/single_step")


class RecordingMismatch(Exception):
    """The vector file cannot be served as one consistent chain."""


class CometBftRecording(httpx.MockTransport):
    """The RPC answers of a node that has heights ``[lowest, top]`` of one vector file."""

    def __init__(self, vectors: Path, name: str, *, top: int | None = None) -> None:
        data = json.loads((vectors / MODEL_BASED / name).read_text())
        self.name = name
        self.trusting_period_s = int(data["initial"]["trusting_period"]) // 10**9
        self.commits: dict[int, dict[str, Any]] = {}
        self.validators: dict[int, list[Any]] = {}
        initial = data["initial"]
        self._add(initial["signed_header"], None, initial["next_validator_set"])
        for step in data["input"]:
            if step["verdict"] == "INVALID":
                continue
            block = step["block"]
            self._add(block["signed_header"], block["validator_set"], block["next_validator_set"])
        servable = [
            h for h in sorted(self.commits) if h in self.validators and h + 1 in self.validators
        ]
        self.top = top if top is not None else servable[-1]
        self.lowest = self.top
        while self.lowest - 1 in servable:
            self.lowest -= 1
        if self.top not in servable:
            raise RecordingMismatch(f"{name}: height {self.top} is not servable")
        self.chain_id = self.commits[self.top]["header"]["chain_id"]
        self.calls: list[str] = []
        super().__init__(self._handle)

    def _add(self, signed: dict[str, Any], vals: Any, next_vals: Any) -> None:
        header = signed["header"]
        height = int(header["height"])
        if vals is None and header["validators_hash"] == header["next_validators_hash"]:
            vals = next_vals  # the header says both sets hash the same
        self.commits[height] = signed
        for at, vset in ((height, vals), (height + 1, next_vals)):
            if vset is None:
                continue
            known = self.validators.get(at)
            if known is not None and known != vset["validators"]:
                raise RecordingMismatch(f"{self.name}: two validator sets at {at}")
            self.validators[at] = vset["validators"]

    def header_time(self, height: int) -> str:
        return str(self.commits[height]["header"]["time"])

    # --- the RPC ---------------------------------------------------------------------------

    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        method, params, rid = body["method"], body.get("params") or {}, body["id"]
        self.calls.append(method)
        try:
            result = getattr(self, f"_rpc_{method}", self._rpc_unrecorded)(params, method)
        except _RpcFailure as failure:
            error = {"code": -32603, "message": "Internal error", "data": str(failure)}
            # CometBFT v0.38 answers JSON-RPC errors with HTTP 200.
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": rid, "error": error})
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": rid, "result": result})

    def _height(self, params: dict[str, Any], *, tip: int) -> int:
        height = int(params.get("height") or tip)
        if height > tip:
            raise _RpcFailure(
                f"height {height} must be less than or equal to the current blockchain "
                f"height {self.top}"
            )
        if height < self.lowest:
            raise _RpcFailure(f"height {height} is not available, lowest height is {self.lowest}")
        return height

    def _rpc_status(self, params: dict[str, Any], method: str) -> dict[str, Any]:
        top = self.commits[self.top]["header"]
        return {
            "node_info": {"network": self.chain_id, "moniker": f"recording:{self.name}"},
            "sync_info": {
                "latest_block_hash": self.commits[self.top]["commit"]["block_id"]["hash"],
                "latest_app_hash": top["app_hash"],
                "latest_block_height": str(self.top),
                "latest_block_time": top["time"],
                "earliest_block_height": str(self.lowest),
                "catching_up": False,
            },
        }

    def _rpc_commit(self, params: dict[str, Any], method: str) -> dict[str, Any]:
        height = self._height(params, tip=self.top)
        # CometBFT marks the tip's commit non-canonical (it is the seen commit).
        return {"signed_header": self.commits[height], "canonical": height < self.top}

    def _rpc_validators(self, params: dict[str, Any], method: str) -> dict[str, Any]:
        height = self._height(params, tip=self.top + 1)  # the next set is known at the tip
        validators = self.validators[height]
        per_page = min(max(int(params.get("per_page") or 30), 1), 100)
        pages = max(1, -(-len(validators) // per_page))
        page = int(params.get("page") or 1)
        if not 1 <= page <= pages:
            raise _RpcFailure(f"page should be within [1, {pages}] range, given {page}")
        chunk = validators[(page - 1) * per_page : page * per_page]
        return {
            "block_height": str(height),
            "validators": chunk,
            "count": str(len(chunk)),
            "total": str(len(validators)),
        }

    def _rpc_tx(self, params: dict[str, Any], method: str) -> dict[str, Any]:
        tx_hash = base64.b64decode(params["hash"]).hex().upper()
        raise _RpcFailure(f"tx ({tx_hash}) not found")

    def _rpc_unrecorded(self, params: dict[str, Any], method: str) -> dict[str, Any]:
        raise _RpcFailure(f"{method}: not in the recording (the vectors hold no such data)")


class _RpcFailure(Exception):
    pass
