"""Which chain families the hub can talk to: built-ins plus installed packages.

Every family, the built-in ones included, registers under the entry-point group
``pujiang_gateway.adapters`` in its package's ``pyproject.toml`` and is found
here at start-up, the way pytest finds its plugins: the hub's own families are
the entry points of its own distribution (listed as ``builtin``), and nothing
distinguishes them from a chain team's package. A package that fails to
import, or that was built for another major seam version
(``adapters.sdk.SEAM_VERSION``), is reported by name and skipped:
one broken plugin must not take the hub down. Two packages claiming one family
name is a configuration error, because the hub could not tell which to trust.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points

from adapters.sdk import check_seam_version
from core.errors import ConfigError

ENTRY_POINT_GROUP = "pujiang_gateway.adapters"

HUB_DISTRIBUTION = "pujiang-gateway"
"""The hub's own distribution: the families it ships are listed as ``builtin``."""


@dataclass(frozen=True, slots=True)
class AdapterInfo:
    family: str
    target: str  # "module:attribute"
    source: str  # "builtin" or the distribution that installed it
    version: str
    seam_version: str = ""  # what the adapter declares; "" when unknown (not imported, or pre-SDK)


@dataclass(slots=True)
class Registry:
    adapters: dict[str, AdapterInfo] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)  # family -> why it could not load

    def load(self, family: str) -> type:
        """Import and return the adapter class of ``family``."""
        if family in self.broken:
            raise ConfigError(
                f"adapter family {family!r} is installed but broken: {self.broken[family]}",
                family=family,
            )
        info = self.adapters.get(family)
        if info is None:
            known = ", ".join(sorted(self.adapters)) or "none"
            raise ConfigError(
                f"no adapter for chain family {family!r} (installed: {known})", family=family
            )
        return _import_target(info.target)


def _import_target(target: str) -> type:
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    obj = module
    for part in attribute.split(".") if attribute else []:
        obj = getattr(obj, part)
    return obj  # type: ignore[return-value]


def _describe(ep: EntryPoint) -> tuple[str, str]:
    dist = ep.dist
    return (dist.name, dist.version) if dist is not None else ("unknown", "unknown")


def discover(*, check_imports: bool = True) -> Registry:
    """Built-ins plus every installed entry point; broken ones land in ``broken``.

    Raises ``ConfigError`` when two sources claim the same family name.
    """
    registry = Registry()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist_name, dist_version = _describe(ep)
        if dist_name == HUB_DISTRIBUTION:  # the built-in families, registered like any other
            dist_name, dist_version = "builtin", ""
        if ep.name in registry.adapters or ep.name in registry.broken:
            other = registry.adapters.get(ep.name)
            raise ConfigError(
                f"adapter family {ep.name!r} is claimed twice "
                f"({other.source if other else 'a broken package'} and {dist_name})",
                family=ep.name,
            )
        seam_version = ""
        if check_imports:
            try:
                loaded = ep.load()
            except Exception as err:  # any import failure is reported, never raised
                registry.broken[ep.name] = (
                    f"{dist_name} {dist_version}: {type(err).__name__}: {err}"
                )
                continue
            problem = check_seam_version(loaded)
            if problem is not None:
                registry.broken[ep.name] = f"{dist_name} {dist_version}: {problem}"
                continue
            seam_version = str(getattr(loaded, "seam_version", "") or "")
        registry.adapters[ep.name] = AdapterInfo(
            ep.name, ep.value, dist_name, dist_version, seam_version
        )
    return registry
