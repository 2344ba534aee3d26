"""``pjgw adapter new``: an installable chain-family package, written from templates.

The templates are package data (``templates/``, every file ending ``.tmpl``,
the suffix dropped on output) filled with ``string.Template``: a dozen small
files need ``$$name`` placeholders, not a template engine dependency. A
directory named ``__module__`` takes the package's module name.

The package is rendered into a temporary sibling directory and renamed into
place, so a failure leaves nothing half written and an existing directory is
never overwritten (``os.rename`` refuses a non-empty target).
"""

from __future__ import annotations

import keyword
import os
import re
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from adapters.sdk import SEAM_VERSION
from core.errors import Conflict, InvalidInput

FAMILY_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")
"""A family name: lower-case words of letters and digits joined by single underscores."""

MAX_FAMILY_LENGTH = 24
HUB_DISTRIBUTION = "pujiang-gateway"
MODULE_DIR = "__module__"
SUFFIX = ".tmpl"


@dataclass(frozen=True, slots=True)
class Names:
    """Every name the templates use, derived from the family name."""

    family: str  # my_chain: the entry-point name, the registry key
    Camel: str  # MyChain: class prefix
    module: str  # pjgw_adapter_my_chain
    dist: str  # pjgw-adapter-my-chain (the project name; the folder keeps the family as typed)
    env_prefix: str  # PJGW_MY_CHAIN_
    seam_version: str
    hub_version: str


def validate_family(name: str, taken: Iterable[str] = ()) -> str:
    """``name`` when it can be a new family; ``InvalidInput`` / ``Conflict`` saying why not."""
    if not FAMILY_PATTERN.fullmatch(name) or len(name) > MAX_FAMILY_LENGTH:
        raise InvalidInput(
            f"family name {name!r} must be 1-{MAX_FAMILY_LENGTH} characters: lower-case "
            "letters and digits, words joined by single underscores, starting with a letter",
            field="name",
        )
    if keyword.iskeyword(name):
        raise InvalidInput(f"family name {name!r} is a Python keyword", field="name")
    if name in set(taken):
        raise Conflict(
            f"a family {name!r} is already installed; two packages claiming one family "
            "would stop the hub from loading either",
            field="name",
        )
    return name


def names_for(family: str, taken: Iterable[str] = ()) -> Names:
    family = validate_family(family, taken)
    return Names(
        family=family,
        Camel="".join(part.capitalize() for part in family.split("_")),
        module=f"pjgw_adapter_{family}",
        dist=f"pjgw-adapter-{family.replace('_', '-')}",
        env_prefix=f"PJGW_{family.upper()}_",
        seam_version=SEAM_VERSION,
        hub_version=_hub_version(),
    )


def package_dir_name(family: str) -> str:
    return f"pjgw-adapter-{family}"


def render(family: str, dest: Path, *, taken: Iterable[str] = ()) -> Path:
    """Write ``dest/pjgw-adapter-<family>/`` and return its path.

    ``InvalidInput`` for a bad name, ``Conflict`` when the family is taken or
    the folder exists (it is never overwritten).
    """
    names = names_for(family, taken)
    target = Path(dest) / package_dir_name(family)
    if target.exists():
        raise Conflict(f"{target} already exists; not overwriting it", field="dir")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        _render_tree(resources.files(__package__) / "templates", staging, asdict(names))
        try:
            os.rename(staging, target)
        except OSError as err:  # created meanwhile: still never overwritten
            raise Conflict(f"{target} already exists; not overwriting it", field="dir") from err
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def _render_tree(source: Traversable, out: Path, values: dict[str, str]) -> None:
    for entry in sorted(source.iterdir(), key=lambda e: e.name):
        if entry.is_dir():
            name = values["module"] if entry.name == MODULE_DIR else entry.name
            if name == "__pycache__":
                continue
            (out / name).mkdir()
            _render_tree(entry, out / name, values)
        elif entry.name.endswith(SUFFIX):
            try:
                text = Template(entry.read_text(encoding="utf-8")).substitute(values)
            except (KeyError, ValueError) as err:  # a broken template is the hub's bug
                raise RuntimeError(f"scaffold template {entry.name}: {err!r}") from err
            (out / entry.name.removesuffix(SUFFIX)).write_text(text, encoding="utf-8")


def _hub_version() -> str:
    try:
        return metadata.version(HUB_DISTRIBUTION)
    except metadata.PackageNotFoundError:  # running from a checkout that is not installed
        return "0.1.0"


__all__ = ["FAMILY_PATTERN", "Names", "names_for", "package_dir_name", "render", "validate_family"]
