"""Commands that other parts add to ``pjgw`` through the ``pujiang_gateway.cli`` entry points.

Each entry point names a ``register(app: typer.Typer) -> None`` callable. The
project's own parts above or beside the gateway (the devnet node, the dev
stack and its tour, a chain family's deployment tools) register exactly like
an installed package would, so ``gateway`` never imports them and the layers
stay one-way. A plugin that fails to load is reported on stderr by name and
skipped: one broken package must not take the whole command line down.
"""

from __future__ import annotations

import sys
from importlib.metadata import entry_points

import typer

CLI_ENTRY_POINT_GROUP = "pujiang_gateway.cli"


def register_plugins(app: typer.Typer) -> list[str]:
    """Register every installed command plugin on ``app``; the names registered."""
    registered = []
    for ep in sorted(entry_points(group=CLI_ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            ep.load()(app)
        except Exception as err:  # reported, never raised (see the module docstring)
            print(
                f"pjgw: command plugin {ep.name!r} ({ep.value}) not loaded: {err}", file=sys.stderr
            )
            continue
        registered.append(ep.name)
    return registered


__all__ = ["CLI_ENTRY_POINT_GROUP", "register_plugins"]
