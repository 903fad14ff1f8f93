"""The version of the plugin contract (``wit/plugin.wit``) the kernel implements, and the checks
that a component was built against a version it can serve.

A component speaks ``trovato:plugin`` 1.x. The kernel serves every minor version up to its own:
new host functions come in minor versions, and wasmtime's linker satisfies an import of
``trovato:plugin/host@1.0.0`` with the kernel's ``host@1.1.0`` (semver-compatible names), so a
1.0.0 component keeps loading unchanged. A component needing a newer minor version is refused
with a message saying so, before it is instantiated: its imports name the version it was built
against (:func:`check_imports`), and its ``describe()`` repeats it (:func:`check_contract`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from trovato.plugins.errors import PluginLoadError

CONTRACT: Final = (1, 1, 0)
CONTRACT_VERSION: Final = ".".join(map(str, CONTRACT))
PACKAGE: Final = "trovato:plugin"


def parse_contract(value: Any) -> tuple[int, int, int]:
    try:
        major, minor, patch = (int(part) for part in str(value).split("."))
    except ValueError:
        raise PluginLoadError(f"describe() reports an invalid contract {value!r}") from None
    return major, minor, patch


def check_contract(name: str, value: Any) -> None:
    """Accept components built against ``trovato:plugin`` 1.x up to the kernel's minor."""
    major, minor, _ = parse_contract(value)
    if major != CONTRACT[0]:
        raise PluginLoadError(
            f"plugin {name!r} was built against {PACKAGE} {value}, but this kernel "
            f"implements {CONTRACT_VERSION}: rebuild it with a {CONTRACT[0]}.x SDK")
    if minor > CONTRACT[1]:
        raise PluginLoadError(
            f"plugin {name!r} needs {PACKAGE} {value}, newer than this kernel's "
            f"{CONTRACT_VERSION}: upgrade Trovato")


def check_imports(name: str, imports: Iterable[str]) -> None:
    """Check the contract versions a component imports (``trovato:plugin/host@X.Y.Z``), so a
    plugin built for a newer kernel gets :func:`check_contract`'s message instead of a linker
    error about a missing import."""
    prefix = f"{PACKAGE}/"
    for imported in imports:
        if imported.startswith(prefix) and "@" in imported:
            check_contract(name, imported.rpartition("@")[2])
