"""``pjgw adapters list`` and ``pjgw adapter new``: the chain families, seen and made.

``adapters list`` shows every family the hub can load: the built-ins and the
packages installed under the entry-point group ``pujiang_gateway.adapters``,
with the distribution and version that provides each, the adapter seam version
it was built for and the settings model that validates a chain's options. A
plugin that cannot be loaded is a row of its own, with its error: listing never
fails because of one package (only two packages claiming one family, which the
registry refuses, is an error). ``--json`` prints the same as a document.

``adapter new NAME`` writes an installable package from ``gateway.scaffold``.
``gateway.cli`` registers both sub-apps with ``app.add_typer``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from importlib import metadata
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from adapters.registry import ENTRY_POINT_GROUP, discover
from adapters.sdk import SEAM_VERSION, settings_model_of
from core.errors import PjgwError
from gateway import scaffold

HUB_DISTRIBUTION = "pujiang-gateway"
EXIT_ERROR = 2  # as ``gateway.cli.main`` for a PjgwError
HERE = Path(".")

adapters_app = typer.Typer(help="The chain families the hub can load.", no_args_is_help=True)
adapter_app = typer.Typer(help="Write a new chain family package.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


@dataclass
class FamilyInfo:
    """One row of ``adapters list`` (and one object of its ``--json``)."""

    family: str
    status: str  # "ok" or "broken"
    kind: str  # "builtin" or "plugin"
    distribution: str
    version: str
    seam_version: str = ""  # "" when the adapter does not declare one (pre-SDK)
    target: str = ""  # "module:attribute"
    settings_model: str = ""  # "module.Class", "" when the family names none
    required_settings: list[str] = field(default_factory=list)
    optional_settings: list[str] = field(default_factory=list)
    error: str = ""


def inventory() -> list[FamilyInfo]:
    """Every family, loadable ones first, by name; ``ConfigError`` on a claimed-twice family.

    Each loadable family is imported here (to read its settings model): a
    built-in whose import fails — a missing optional dependency — becomes a
    broken row like a plugin's, instead of an exception.
    """
    registry = discover()
    hub_version = _version(HUB_DISTRIBUTION)
    rows: list[FamilyInfo] = []
    broken: list[FamilyInfo] = []
    for family, info in sorted(registry.adapters.items()):
        builtin = info.source == "builtin"
        row = FamilyInfo(
            family=family,
            status="ok",
            kind="builtin" if builtin else "plugin",
            distribution=HUB_DISTRIBUTION if builtin else info.source,
            version=hub_version if builtin else info.version,
            seam_version=info.seam_version,
            target=info.target,
        )
        try:
            adapter_cls = registry.load(family)
        except Exception as err:  # reported as a row, never raised: one family must not hide all
            row.status, row.error = "broken", f"{type(err).__name__}: {err}"
            broken.append(row)
            continue
        model = settings_model_of(adapter_cls)
        if model is not None:
            row.settings_model = f"{model.__module__}.{model.__qualname__}"
            for name, spec in model.model_fields.items():
                (row.required_settings if spec.is_required() else row.optional_settings).append(
                    name
                )
        rows.append(row)
    plugins = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    for family, why in sorted(registry.broken.items()):
        ep = plugins.get(family)
        dist = ep.dist if ep is not None else None
        name, version = (dist.name, dist.version) if dist is not None else ("unknown", "unknown")
        broken.append(
            FamilyInfo(
                family=family,
                status="broken",
                kind="plugin",
                distribution=name,
                version=version,
                target=ep.value if ep is not None else "",
                error=why.removeprefix(f"{name} {version}: "),
            )
        )
    return rows + broken


def installed_family_names() -> set[str]:
    """Every family name taken, broken plugins included (without importing any)."""
    return {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}


@adapters_app.callback()
def _adapters() -> None:
    """The chain families the hub can load."""


@adapters_app.command("list")
def list_families(
    as_json: bool = typer.Option(False, "--json", help="Print a JSON document instead of a table"),
) -> None:
    """Every chain family: built-in or installed, its version, settings, and broken plugins."""
    try:
        families = inventory()
    except PjgwError as err:
        errors.print(f"[red]error[/] {escape(str(err))}")
        raise typer.Exit(code=EXIT_ERROR) from err
    if as_json:
        document = {
            "seam_version": SEAM_VERSION,
            "entry_point_group": ENTRY_POINT_GROUP,
            "adapters": [asdict(f) for f in families],
        }
        typer.echo(json.dumps(document, indent=2))
        return
    table = Table(title=f"chain families (adapter seam {SEAM_VERSION})")
    for column in ("family", "status", "distribution", "version", "seam", "settings"):
        table.add_column(column, overflow="fold")  # names are never cut
    for f in families:
        status = "[green]ok[/]" if f.status == "ok" else "[red]broken[/]"
        settings = f.settings_model.rpartition(".")[2] or "-"
        if f.required_settings:
            settings += f" (needs {', '.join(f.required_settings)})"
        source = f.distribution if f.kind == "plugin" else f"{f.distribution} (built-in)"
        cells = (f.family, source, f.version, f.seam_version or "?", settings)
        table.add_row(*(escape(c) for c in cells[:1]), status, *(escape(c) for c in cells[1:]))
    console.print(table)
    for f in families:
        if f.status == "broken":
            what = escape(f"{f.family} ({f.distribution} {f.version}): {f.error}")
            console.print(f"[red]broken[/] {what}", soft_wrap=True)  # one grep-able line


@adapter_app.callback()
def _adapter() -> None:
    """Write a new chain family package."""


@adapter_app.command("new")
def new_family(
    name: str = typer.Argument(..., help="The family name: lower-case words joined by '_'"),
    directory: Annotated[
        Path, typer.Option("--dir", "-d", help="Where to write pjgw-adapter-NAME/")
    ] = HERE,
) -> None:
    """Write pjgw-adapter-NAME/: an installable adapter package with the conformance kit wired."""
    try:
        path = scaffold.render(name, directory, taken=installed_family_names())
    except PjgwError as err:
        errors.print(f"[red]error[/] {escape(str(err))}")
        raise typer.Exit(code=EXIT_ERROR) from err
    console.print(f"wrote [bold]{path}[/] (family {name!r}, adapter seam {SEAM_VERSION})")
    console.print(
        f"next:\n  pip install -e {path}\n  pjgw adapters list\n"
        f"  cd {path} && pytest        # the conformance kit: its summary is your to-do list"
    )


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return ""


__all__ = ["FamilyInfo", "adapter_app", "adapters_app", "installed_family_names", "inventory"]
