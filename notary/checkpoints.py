"""Trust anchors a notary of an earlier version wrote down (``checkpoints.json``), read once.

Notaries before the one light-client follower kept a single ``(height, hash)``
per chain in this file. An upgraded notary reads it as its trust anchors, so
it does not trust the node on first use again; from then on the follower's
own files (``clients/<chain>.json``) hold the verified states. Nothing writes
this file any more.
"""

from __future__ import annotations

import json
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
    """``{chain_id: {"height": int, "hash": "0x…", "source": str}}`` in ``data_dir`` (read only)."""

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

    def chains(self) -> list[str]:
        return sorted(self._items)


__all__ = ["FILE_NAME", "Checkpoint", "CheckpointFile"]
