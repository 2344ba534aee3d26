"""The kit against the chain of ``--pjgw-chain CONFIG`` (for chain teams and operators).

Not collected by default (the file name does not start with ``test_``); run it
explicitly::

    pytest -p adapters.testing.plugin --pjgw-chain chain.toml --pyargs adapters.testing.configured

The family's adapter comes from the registry (built-ins and the
``pujiang_gateway.adapters`` entry points); its target from the config's
``target`` or, by convention, ``<adapter package>.conformance:target_from_config``,
called as ``target_from_config(options, target_options)``.
"""

from __future__ import annotations

import importlib

import pytest

from adapters.registry import discover
from adapters.testing.plugin import ChainConfig
from adapters.testing.suite import ChainAdapterConformance
from adapters.testing.target import ConformanceTarget
from core.errors import ConfigError


def target_for(config: ChainConfig) -> ConformanceTarget:
    """The ``ConformanceTarget`` a config names (``ConfigError`` when it cannot be found)."""
    spec = config.target
    if spec is None:
        info = discover().adapters.get(config.family)
        if info is None:
            raise ConfigError(f"no adapter installed for family {config.family!r}")
        module_name = info.target.partition(":")[0]
        module = importlib.import_module(module_name)
        # The adapter's package: the module itself when it is one, else its parent.
        package = module_name if hasattr(module, "__path__") else module_name.rpartition(".")[0]
        spec = f"{package}.conformance:target_from_config"
    module_name, _, attribute = spec.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as err:
        raise ConfigError(f"conformance target {spec!r} not found: {err}") from err
    target = factory(config.options, config.target_options)
    if not isinstance(target, ConformanceTarget):
        raise ConfigError(f"{spec} returned {type(target).__name__}, not a ConformanceTarget")
    return target


class TestConfiguredChain(ChainAdapterConformance):
    """The conformance kit against the ``--pjgw-chain`` chain."""

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_target(cls, pjgw_chain_config: ChainConfig | None) -> ConformanceTarget:
        if pjgw_chain_config is None:
            pytest.skip("no --pjgw-chain CONFIG given")
        return target_for(pjgw_chain_config)
