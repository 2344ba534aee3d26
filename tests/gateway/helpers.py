"""The API tests' names: the chains and routes of ``chains``, the keys, a stepping clock."""

from __future__ import annotations

import threading
from dataclasses import dataclass

PJ = "pj-1"
EVM = "anvil-1"
ROUTE = "pj-to-anvil"
BACK = "anvil-to-pj"
EVM_SIGNER = "0x" + "11" * 32


class StepClock:
    """A clock that moves 1 ms per reading: distinct, ordered creation times (thread-safe)."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self.now += 0.001
            return self.now


@dataclass
class Keys:
    client: str
    admin: str
    notary: str
