"""A recording of a ChainMaker gateway/SDK bridge, answering from the REAL blocks of ``chain1``.

No ChainMaker node can run here (no binary, no internet, and its gRPC needs the
SDK), so the real blocks stand in for one: ``ChainMakerRecording`` is an
``httpx.MockTransport`` answering the three reads the adapter makes
(``adapters/chainmaker/client.py``) from ``../shared/vectors/chainmaker/``
(ChainMaker v2.3.2, 4 TBFT validators; see its PROVENANCE.md), read in place
through ``vectors_dir()``, never copied.

What is and is not in it:

* blocks 2 and 30 are full ``BlockInfo`` exports (header, quorum certificate,
  transactions, read-write sets); 3 and 34 are header and quorum certificate
  only (upstream edited their bodies): served as they are, without body;
* heights between the recorded ones are not served (404, as a node answers a
  block it does not have); the tip is the highest height chosen;
* transactions are looked up by id in the full blocks (``TransactionInfo``
  built from the block: transaction, height, block hash, index, time);
* nothing else: no contract events of a hub bridge (none is deployed), no state.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx

BLOCK_FILES = {
    2: "chain1_h2_block.json",
    3: "chain1_h3_header_qc.json",
    30: "chain1_h30_block.json",
    34: "chain1_h34_header_qc.json",
}
CHAIN_ID = "chain1"
_PATH = re.compile(r"^/chains/(?P<chain>[^/]+)/(?P<what>height|blocks/(?P<h>\d+)|txs/(?P<tx>\w+))$")


class ChainMakerRecording(httpx.MockTransport):
    """The bridge of a node holding the chosen recorded heights of ``chain1``."""

    def __init__(self, vectors: Path, heights: Iterable[int] = tuple(BLOCK_FILES)) -> None:
        folder = vectors / "chainmaker"
        self.blocks: dict[int, dict[str, Any]] = {
            h: json.loads((folder / BLOCK_FILES[h]).read_text()) for h in sorted(heights)
        }
        self.lowest, self.top = min(self.blocks), max(self.blocks)
        self.calls: list[str] = []
        super().__init__(self._handle)

    def header(self, height: int) -> dict[str, Any]:
        return self.blocks[height]["block"]["header"]

    def block_time(self, height: int) -> int:
        return int(self.header(height)["block_timestamp"])

    def _handle(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        match = _PATH.fullmatch(request.url.path)
        if match is None or match["chain"] != CHAIN_ID:
            return httpx.Response(404, json={"error": f"no route {request.url.path}"})
        if match["what"] == "height":
            return httpx.Response(200, json={"block_height": self.top})
        if match["h"] is not None:
            block = self.blocks.get(int(match["h"]))
            if block is None:
                return httpx.Response(404, json={"error": f"block {match['h']} not found"})
            return httpx.Response(200, json=block)
        found = self._tx(match["tx"])
        if found is None:
            return httpx.Response(404, json={"error": f"tx {match['tx']} not found"})
        return httpx.Response(200, json=found)

    def _tx(self, tx_id: str) -> dict[str, Any] | None:
        for height, block in self.blocks.items():
            header = block["block"]["header"]
            for index, tx in enumerate(block["block"].get("txs") or []):
                if tx["payload"]["tx_id"] == tx_id:
                    return {
                        "transaction": tx,
                        "block_height": height,
                        "block_hash": header["block_hash"],
                        "tx_index": index,
                        "block_timestamp": header["block_timestamp"],
                    }
        return None

    def tx_ids(self) -> list[tuple[int, str]]:
        """``(height, tx_id)`` of every recorded transaction."""
        return [
            (h, tx["payload"]["tx_id"])
            for h, block in self.blocks.items()
            for tx in block["block"].get("txs") or []
        ]
