"""Recordings of a FISCO BCOS 2.x node's JSON-RPC answers, built from REAL headers and a REAL proof.

No FISCO node can run here (no binary, no internet), so recorded real data
stands in for one: httpx ``MockTransport``s that answer the 2.x JSON-RPC
calls the adapter makes, from ``../shared/vectors/fisco-bcos/`` (see its
PROVENANCE.md), read at test time through ``vectors_dir()``, never copied.

What is and is not in them:

* ``FiscoRecording`` serves ONE chain of one block: ``header_4sealers.json``
  (the ``getBlockHeaderByHash`` example of the FISCO 2.x JSON-RPC reference, a
  4-sealer chain) or ``block_1sealer.json`` (a 1-sealer chain). Each is block
  1 of its chain; neither file holds the block before or after it, so the
  node's tip is 1 and nothing below it is served (block 0's header is not in
  the vectors: only its hash, as block 1's ``parentHash``);
* ``getBlockNumber``, ``getBlockHeaderByNumber`` / ``ByHash`` and
  ``getSealerList`` answer from that header as it is;
* ``getTransactionReceipt`` and ``getTransactionByHashWithProof`` answer
  ``null`` (FISCO's answer for an unknown hash): the vectors hold no
  transaction of these chains;
* ``FiscoProofRecording`` serves only ``getTransactionByHashWithProof`` of the
  WeCross test's transaction (``txproof.json``, block 0x23 of ANOTHER chain,
  whose header is not in the vectors): its ``transaction`` object carries the
  hash, block number, block hash and index the vector has, nothing more;
* any other call, or a block not recorded, answers a JSON-RPC error naming the
  recording, so a check that needs it fails loudly instead of passing on
  invented data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

FOLDER = "fisco-bcos"
FOUR_SEALERS = "header_4sealers.json"
ONE_SEALER = "block_1sealer.json"
TX_PROOF = "txproof.json"


def read_vector(vectors: Path, name: str) -> dict[str, Any]:
    """One vector file of ``fisco-bcos/`` as its JSON object."""
    doc = json.loads((vectors / FOLDER / name).read_text())
    assert isinstance(doc, dict)
    return doc


class _Recording(httpx.MockTransport):
    """A JSON-RPC 2.0 endpoint answering ``_rpc_<method>(params)`` for one group."""

    def __init__(self, name: str, group_id: int) -> None:
        self.name = name
        self.group_id = group_id
        self.calls: list[str] = []
        super().__init__(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        method, params, rid = body["method"], body.get("params") or [], body["id"]
        self.calls.append(method)
        try:
            if not params or params[0] != self.group_id:
                raise _RpcFailure(f"group {params[:1]} is not recorded (group {self.group_id})")
            handler = getattr(self, f"_rpc_{method}", None)
            if handler is None:
                raise _RpcFailure(f"{method}: not in the recording {self.name}")
            result = handler(params[1:])
        except _RpcFailure as failure:
            error = {"code": -32000, "message": str(failure)}
            return httpx.Response(200, json={"jsonrpc": "2.0", "id": rid, "error": error})
        return httpx.Response(200, json={"jsonrpc": "2.0", "id": rid, "result": result})


class FiscoRecording(_Recording):
    """The node of a chain whose only recorded block is one real 2.x header (its tip)."""

    def __init__(self, vectors: Path, name: str = FOUR_SEALERS, *, group_id: int = 1) -> None:
        super().__init__(name, group_id)
        self.header = read_vector(vectors, name)
        self.number = int(self.header["number"], 16)
        self.hash = self.header["hash"]

    def _block(self, number: str) -> dict[str, Any]:
        if int(number, 0) != self.number:
            raise _RpcFailure(f"block {number} is not in the recording {self.name}")
        return self.header

    def _rpc_getBlockNumber(self, params: list[Any]) -> str:
        return hex(self.number)

    def _rpc_getBlockHeaderByNumber(self, params: list[Any]) -> dict[str, Any]:
        return self._block(str(params[0]))

    def _rpc_getBlockHeaderByHash(self, params: list[Any]) -> dict[str, Any]:
        if str(params[0]).lower() != self.hash:
            raise _RpcFailure(f"block {params[0]} is not in the recording {self.name}")
        return self.header

    def _rpc_getSealerList(self, params: list[Any]) -> list[str]:
        return list(self.header["sealerList"])

    def _rpc_getTransactionReceipt(self, params: list[Any]) -> None:
        return None  # no transaction of this chain is recorded

    def _rpc_getTransactionByHashWithProof(self, params: list[Any]) -> None:
        return None


class FiscoProofRecording(_Recording):
    """The one real transaction proof (WeCross's test data), of a block not otherwise recorded."""

    def __init__(self, vectors: Path, *, group_id: int = 1) -> None:
        super().__init__(TX_PROOF, group_id)
        self.proof = read_vector(vectors, TX_PROOF)

    def _rpc_getTransactionByHashWithProof(self, params: list[Any]) -> dict[str, Any] | None:
        if str(params[0]).lower() != self.proof["txHash"]:
            return None
        p = self.proof
        return {
            "transaction": {
                "hash": p["txHash"],
                "blockNumber": p["blockNumber"],
                "blockHash": p["blockHash"],
                "transactionIndex": p["transactionIndex"],
            },
            "txProof": p["txProof"],
        }


class _RpcFailure(Exception):
    pass
