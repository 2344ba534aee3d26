"""The adapter conformance kit: one pytest suite every ``ChainAdapter`` must pass.

* ``target.ConformanceTarget``: what a family tells the kit about a live chain
  (how to build its adapter, cause a bridge event, trust a checkpoint).
* ``suite.ChainAdapterConformance``: the checks, written once; subclass it and
  provide the fixture ``conformance_target``.
* ``plugin``: ``--pjgw-chain CONFIG``, the ``pjgw_conformance`` marker and the
  end-of-run summary. ``configured``: the kit against the ``--pjgw-chain`` chain.

``docs/adapter-guide.md`` walks through it. The suite is imported lazily (on
first use of ``ChainAdapterConformance`` or ``Kit``): its marker must not be
evaluated before the plugin registered it, which matters when the plugin is
loaded from a ``conftest.py`` under ``--strict-markers``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

MARKER = "pjgw_conformance"
"""Every check of the kit carries this marker; the plugin's summary lists the marked tests."""

# The kit's asserts are the checks' messages: let pytest rewrite them even when
# the kit is imported from a conftest rather than loaded as a plugin.
pytest.register_assert_rewrite("adapters.testing.suite")

if TYPE_CHECKING:
    from adapters.testing.suite import ChainAdapterConformance, Kit
    from adapters.testing.target import ConformanceTarget

_LAZY = {
    "ChainAdapterConformance": "adapters.testing.suite",
    "Kit": "adapters.testing.suite",
    "ConformanceTarget": "adapters.testing.target",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'adapters.testing' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = ["MARKER", "ChainAdapterConformance", "ConformanceTarget", "Kit"]
