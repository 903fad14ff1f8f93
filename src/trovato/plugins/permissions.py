"""The permissions plugins define through the ``perm`` tap, registered with the site's registry.

The registry is injected as a :class:`PermissionSink` (the plugin system imports no user code).
Permission names are one space shared with the kernel: a name another provider already
defines stays theirs and the plugin's entry is ignored, so a plugin can neither redefine nor
take away a kernel or another plugin's permission.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from trovato.plugins.dispatch import TapOutcome

log = logging.getLogger("trovato.plugins")


class PermissionSink(Protocol):
    """The site's permission registry as the plugin manager uses it."""

    def define(self, name: str, title: str, description: str = "", restricted: bool = False,
               *, provider: str) -> None: ...

    def owners(self) -> dict[str, str]: ...

    def remove_provider(self, provider: str) -> None: ...


def register_permissions(sink: PermissionSink, plugins: Iterable[str],
                         outcome: TapOutcome) -> None:
    """Swap the permissions of ``plugins`` for those of the ``perm`` tap's ``outcome``.

    Synchronous, so a concurrent request never sees a registry missing them."""
    for name in plugins:
        sink.remove_provider(name)
    owners = sink.owners()
    for reply in outcome.replies:
        for perm in reply.value or []:
            owner = owners.setdefault(perm["name"], reply.plugin)
            if owner != reply.plugin:
                log.warning("plugin %s defines the permission %r, which %s already "
                            "provides; ignored", reply.plugin, perm["name"],
                            "the kernel" if owner == "system" else f"plugin {owner}")
                continue
            sink.define(perm["name"], perm.get("title") or perm["name"],
                        perm.get("description", ""), bool(perm.get("restricted", False)),
                        provider=reply.plugin)
