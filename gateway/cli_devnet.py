"""``pjgw devnet``: the reference Pujiang subchain node's commands.

The commands live in ``devnet.cli`` (so ``python -m devnet`` needs nothing of
the gateway); this module hands that typer app to ``gateway.cli``, which
registers it with ``app.add_typer(devnet_app, name="devnet")``.
"""

from __future__ import annotations

from devnet.cli import app as devnet_app

__all__ = ["devnet_app"]
