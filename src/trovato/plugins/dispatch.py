"""Call a tap on every enabled plugin that implements it, per the catalogue's rules.

Order: the per-tap weight from ``[taps.<tap>] weight`` (else the plugin's weight), then
dependency order (a plugin runs after the plugins it depends on), then name. Alter taps
accumulate: each plugin's merge patch is applied before the next plugin runs, so plugin B sees
what plugin A did. Access taps vote: any deny wins, else any grant, else neutral. Failures are
logged with plugin, tap and request id, counted in ``trovato_plugin_traps_total``, and handled
fail-open (skipped) or fail-closed (deny, or the operation is aborted) per the catalogue.

A plugin's call made inside a database transaction (the content taps run in the item's) runs
in a savepoint of its own: the database writes of a call that fails are undone with it, so a
fail-open tap that breaks half-way leaves none of its writes behind while the item is saved.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trovato.db.pool import current_transaction
from trovato.observability.profiler import record_tap
from trovato.plugins.catalogue import CATALOGUE, TapSpec
from trovato.plugins.errors import PluginError, PluginRefused, PluginSchemaError
from trovato.plugins.schema import SchemaError, validate

if TYPE_CHECKING:
    from trovato.observability.metrics import Metrics
    from trovato.plugins.session import PluginSession

log = logging.getLogger("trovato.plugins")

GRANT, DENY, NEUTRAL = "grant", "deny", "neutral"
_ALTER_RESULT = {"type": "object", "required": ["patch"],
                 "properties": {"patch": {"type": ["object", "null"]}}}


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396: ``null`` removes a key, objects merge recursively, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


@dataclass(slots=True)
class TapReply:
    plugin: str
    value: Any


@dataclass(slots=True)
class TapOutcome:
    """What one dispatch produced: the aggregated ``value``, each plugin's reply, failures."""

    tap: str
    value: Any = None
    replies: list[TapReply] = field(default_factory=list)
    failures: list[PluginError] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Implementation:
    """A plugin's entry in the dispatch order of one tap."""

    plugin: str
    weight: int
    position: int  # in the dependency (topological) order


def dispatch_order(implementations: Sequence[Implementation]) -> list[str]:
    return [i.plugin for i in sorted(implementations,
                                     key=lambda i: (i.weight, i.position, i.plugin))]


class Dispatcher:
    """Runs taps for one set of enabled plugins; ``order_for`` supplies the order per tap."""

    def __init__(self, order: dict[str, list[str]], metrics: Metrics | None = None,
                 *, validate_payloads: bool = True) -> None:
        # tap -> plugins in call order; tuples, so callers can be given them without a copy
        self.order = {tap: tuple(plugins) for tap, plugins in order.items()}
        # The taps some plugin implements: asked several times per item shown or voted on.
        self.listened = frozenset(tap for tap, plugins in self.order.items() if plugins)
        self.metrics = metrics
        self.validate_payloads = validate_payloads

    def implementations(self, tap: str) -> tuple[str, ...]:
        """The plugins implementing ``tap``, in call order (asked per item on listings)."""
        return self.order.get(tap, ())

    async def invoke(self, session: PluginSession, tap: str, payload: dict[str, Any] | None = None,
                     *, plugins: Sequence[str] | None = None) -> TapOutcome:
        """Dispatch ``tap`` with ``payload`` (named arguments) and aggregate per the catalogue.

        ``plugins`` restricts the call to those plugins (lifecycle taps of one plugin).
        """
        spec = CATALOGUE.get(tap)
        if spec is None:
            raise KeyError(f"unknown tap {tap!r}")
        args = dict(payload or {})
        if self.validate_payloads:
            try:
                validate(args, spec.payload)
            except SchemaError as exc:
                # The kernel's own bug, not a plugin's: fail loudly.
                raise ValueError(f"tap {tap}: invalid payload: {exc}") from None
        order = self.implementations(tap)
        if plugins is not None:
            order = tuple(p for p in order if p in plugins)
        outcome = TapOutcome(tap)
        votes: list[str] = []
        subject = args.get(spec.subject) if spec.subject else None
        user = session.host.user.public()
        for plugin in order:
            call_args = dict(args)
            if spec.subject:
                call_args[spec.subject] = subject
                call_args["_alter"] = spec.subject
            call_args["_ctx"] = {"user": user, "plugin": plugin}
            try:
                value = await self._call(session, spec, plugin, call_args)
            except PluginError as exc:
                outcome.failures.append(exc)
                if spec.aggregate == "access":
                    # Fail closed: a broken access check must not open anything up.
                    votes.append(DENY)
                    continue
                if spec.fail == "closed":
                    raise
                continue
            if spec.aggregate == "alter":
                patched = apply_merge_patch(subject, value.get("patch"))
                try:
                    validate(patched, spec.payload["properties"][spec.subject],
                             f"$.{spec.subject}")
                except SchemaError as exc:
                    error = PluginSchemaError(plugin, tap, f"change makes an invalid "
                                              f"{spec.subject}: {exc}")
                    self._failed(session, error)
                    outcome.failures.append(error)
                    if spec.fail == "closed":
                        raise error from None
                    continue
                subject = patched
                outcome.replies.append(TapReply(plugin, value.get("patch")))
                continue
            if spec.aggregate == "access":
                votes.append(value)
            if value is not None:
                outcome.replies.append(TapReply(plugin, value))
                if spec.aggregate == "first":
                    break
        outcome.value = self._aggregate(spec, outcome, votes, subject)
        return outcome

    @staticmethod
    def _aggregate(spec: TapSpec, outcome: TapOutcome, votes: list[str], subject: Any) -> Any:
        if spec.aggregate == "access":
            if DENY in votes:
                return DENY
            return GRANT if GRANT in votes else NEUTRAL
        if spec.aggregate == "alter":
            return subject
        if spec.aggregate == "first":
            return outcome.replies[0].value if outcome.replies else None
        if spec.aggregate == "all":
            return [reply.value for reply in outcome.replies]
        return None

    async def _call(self, session: PluginSession, spec: TapSpec, plugin: str,
                    args: dict[str, Any]) -> Any:
        conn = current_transaction()
        if conn is None:
            return await self._call_checked(session, spec, plugin, args)
        async with conn.transaction():  # a savepoint, rolled back if the call fails
            return await self._call_checked(session, spec, plugin, args)

    async def _call_checked(self, session: PluginSession, spec: TapSpec, plugin: str,
                            args: dict[str, Any]) -> Any:
        with self._accounted(session, plugin, spec.name):
            value = await session.call_tap(plugin, spec.name, args)
            expected = _ALTER_RESULT if spec.aggregate == "alter" else spec.result
            try:
                validate(value, expected)
            except SchemaError as exc:
                session.discard(plugin)
                raise PluginSchemaError(plugin, spec.name, str(exc)) from None
            return value

    @contextmanager
    def _accounted(self, session: PluginSession, plugin: str, name: str) -> Iterator[None]:
        """Time one call; log and count a malfunction (a refusal is not one)."""
        started = time.perf_counter()
        try:
            yield
        except PluginRefused:
            raise
        except PluginError as exc:
            self._failed(session, exc)
            raise
        finally:
            elapsed = time.perf_counter() - started
            record_tap(elapsed)
            if self.metrics is not None:
                self.metrics.observe_tap(plugin, name, elapsed)

    def _failed(self, session: PluginSession, exc: PluginError) -> None:
        log.warning("plugin %s failed in %s (request %s): %s", exc.plugin, exc.tap,
                    session.host.request_id, exc.report(),
                    extra={"data": {"plugin": exc.plugin, "tap": exc.tap, "reason": exc.reason,
                                    "request_id": session.host.request_id}})
        if self.metrics is not None:
            self.metrics.count_trap(exc.plugin, exc.tap, exc.reason)

    async def call_function(self, session: PluginSession, plugin: str, function: str,
                            payload: dict[str, Any]) -> Any:
        """Call an exported function (a menu callback): failures are logged, counted, raised.

        Raises :class:`~trovato.plugins.menus.CallbackRefused` first when the session's user
        lacks the callback's permission (the same check ``invoke-plugin`` makes)."""
        session.host.services.callbacks.check(session.host.user, plugin, function)
        with self._accounted(session, plugin, function):
            envelope = dict(payload)
            envelope["_ctx"] = {"user": session.host.user.public(), "plugin": plugin}
            return await session.call_function(plugin, function, envelope)
