"""Errors of the plugin system.

A :class:`PluginError` always names the plugin, the tap (or function) and a short machine
``reason`` that is also the ``reason`` label of the ``trovato_plugin_traps_total`` metric. An
exception the plugin's own code did not handle also carries the Python traceback the guest
formatted, so the author sees their file and line in the log.

Plugin errors are :class:`~trovato.errors.ServiceError` s: a malfunction that reaches the
kernel's error handler is a 500 that names the plugin (its ``message`` and traceback are for
the log and a development site's page); a refusal (:class:`PluginRefused`) is a 400 whose
message is for the user.
"""

from __future__ import annotations

from trovato.errors import ServiceError


class PluginError(ServiceError):
    """A plugin call failed; the instance that failed has been discarded (unless refused)."""

    reason = "error"

    def __init__(self, plugin: str, tap: str, message: str, *, reason: str | None = None,
                 traceback: str = "") -> None:
        self.plugin = plugin
        self.tap = tap
        self.traceback = traceback  # the guest's Python traceback, when it raised one
        if reason is not None:
            self.reason = reason
        super().__init__(message=message)
        self.args = (f"plugin {plugin!r}, {tap}: {self.reason}: {message}",)
        self.debug = self.report()

    @property
    def detail(self) -> str:
        return f"The plugin {self.plugin!r} failed ({self.reason})."

    def report(self) -> str:
        """The error with the plugin's traceback below it, for the log and development pages."""
        return f"{self}\n{self.traceback.rstrip()}" if self.traceback else str(self)


class PluginTrap(PluginError):
    """The guest trapped: ``unreachable``/abort, stack overflow, a stubbed WASI call …"""

    reason = "trap"


class PluginTimeout(PluginError):
    """The call ran out of fuel (``reason='fuel'``) or wall-clock time (``'timeout'``)."""

    reason = "timeout"


class PluginMemoryError(PluginError):
    """The guest hit its memory cap."""

    reason = "memory"


class PluginOutputError(PluginError):
    """The result was too large (``'output'``) or not JSON (``'invalid_json'``)."""

    reason = "output"


class PluginSchemaError(PluginError):
    """The result is JSON but does not match the tap catalogue's schema."""

    reason = "schema"


class PluginRefused(PluginError):
    """The plugin reported a failure on purpose (a validation message, a refusal).

    This is not a malfunction: the instance stays usable and ``message`` is for the user."""

    reason = "refused"
    status = 400

    @property
    def detail(self) -> str:
        return self.message


class PluginLoadError(Exception):
    """A plugin cannot be loaded: bad info file, incompatible contract, broken artifact."""


class DependencyError(PluginLoadError):
    """Missing or cyclic plugin dependencies."""
