"""The notary's trusted checkpoints: one ``(height, hash)`` per chain in a small JSON file.

Trust on first use: when a chain has no checkpoint and none is configured,
the first start trusts the chain's finalized header as served by the node,
and writes it down; from then on every header is verified from it by the
light client (and the checkpoint advances to what was verified). A
configured checkpoint (``checkpoint_height``/``checkpoint_hash`` in the
chain's notary settings) overrides the file. Written atomically (temporary
file + rename) so a crash leaves the old or the new file, never half of one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError

FILE_NAME = "checkpoints.json"


@dataclass(frozen=True, slots=True)
class Checkpoint:
    height: int
    hash: bytes
    source: str  # "configured", "tofu" or "verified"


class CheckpointFile:
    """``{chain_id: {"height": int, "hash": "0x…", "source": str}}`` in ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / FILE_NAME
        self._items: dict[str, Checkpoint] = {}
        if self.path.exists():
            try:
                raw = json.loads(self.path.read_text())
                self._items = {
                    chain: Checkpoint(
                        int(v["height"]), bytes.fromhex(v["hash"][2:]), str(v["source"])
                    )
                    for chain, v in raw.items()
                }
            except (ValueError, KeyError, TypeError) as err:
                raise ConfigError(f"{self.path} is not a checkpoint file") from err

    def get(self, chain_id: str) -> Checkpoint | None:
        return self._items.get(chain_id)

    def put(self, chain_id: str, checkpoint: Checkpoint) -> None:
        self._items[chain_id] = checkpoint
        doc = {
            chain: {"height": c.height, "hash": "0x" + c.hash.hex(), "source": c.source}
            for chain, c in sorted(self._items.items())
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc, indent=1) + "\n")
        os.replace(tmp, self.path)
