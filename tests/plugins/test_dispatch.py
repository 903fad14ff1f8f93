"""Dispatch across plugins: order, accumulation, votes, fail-open and fail-closed."""

from __future__ import annotations

import pytest

from tests.plugins.conftest import item_payload, make_user
from trovato.observability.metrics import Metrics
from trovato.plugins.dispatch import (
    DENY,
    GRANT,
    NEUTRAL,
    Dispatcher,
    Implementation,
    apply_merge_patch,
    dispatch_order,
)
from trovato.plugins.errors import PluginRefused, PluginTrap

BUILD = {"#type": "container", "#attributes": {"class": ["item"]}}


def test_order_is_weight_then_dependency_then_name() -> None:
    impls = [Implementation("b", 0, 1), Implementation("a", 0, 2), Implementation("c", -1, 3),
             Implementation("d", 0, 1)]
    assert dispatch_order(impls) == ["c", "b", "d", "a"]


def test_merge_patch() -> None:
    assert apply_merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"b": {"c": None, "e": 4}}) == \
        {"a": 1, "b": {"d": 3, "e": 4}}
    assert apply_merge_patch({"a": [1]}, {"a": [2]}) == {"a": [2]}


async def test_all_taps_run_in_order(open_session) -> None:
    dispatcher = Dispatcher({"item_view": ["hello", "tally"]}, Metrics())
    async with open_session(make_user()) as session:
        outcome = await dispatcher.invoke(session, "item_view",
                                          {"item": item_payload("Ada"), "view_mode": "full"})
    assert [r.plugin for r in outcome.replies] == ["hello", "tally"]
    assert outcome.value[0]["greeting"]["#value"] == "Hello, Ada!"
    # tally ran second and saw hello's request-context write.
    assert outcome.value[1]["#value"] == "tally saw 1 view(s)"


@pytest.mark.parametrize(("order", "expected"), [
    (["hello", "tally"], ["item", "hello-altered", "after-hello"]),
    (["tally", "hello"], ["item", "before-hello", "hello-altered"]),
])
async def test_alter_accumulates_in_order(open_session, order: list[str],
                                          expected: list[str]) -> None:
    dispatcher = Dispatcher({"item_view_alter": order})
    async with open_session() as session:
        outcome = await dispatcher.invoke(session, "item_view_alter",
                                          {"build": BUILD, "item": item_payload("x")})
    assert outcome.value["#attributes"]["class"] == expected
    # Plugins sent patches, not whole trees.
    assert all(set(r.value) == {"#attributes"} for r in outcome.replies)


async def test_presave_mutations_and_refusal(open_session) -> None:
    dispatcher = Dispatcher({"item_presave": ["hello", "tally"]})
    async with open_session() as session:
        outcome = await dispatcher.invoke(session, "item_presave",
                                          {"item": item_payload("  Title  ")})
        assert outcome.value["title"] == "Title [tally]"
        with pytest.raises(PluginRefused, match="A title is required"):
            await dispatcher.invoke(session, "item_presave", {"item": item_payload("   ")})
        with pytest.raises(PluginRefused) as refused:
            await dispatcher.invoke(session, "item_presave", {"item": item_payload("forbidden")})
        assert refused.value.plugin == "tally"
        # A refusal is not a malfunction: the same instances keep serving.
        assert session.instantiated == 2


@pytest.mark.parametrize(("item_type", "title", "user", "vote"), [
    ("page", "x", make_user(), NEUTRAL),
    ("open", "x", make_user(), GRANT),
    ("locked", "x", make_user(), DENY),
    ("secret", "x", make_user(), DENY),            # hello denies
    ("secret", "x", make_user("see secrets"), NEUTRAL),
])
async def test_access_votes(open_session, item_type: str, title: str, user, vote: str) -> None:
    dispatcher = Dispatcher({"item_access": ["hello", "tally", "hostile"]})
    async with open_session(user) as session:
        outcome = await dispatcher.invoke(
            session, "item_access", {"item": item_payload(title, type=item_type), "op": "view"})
    assert outcome.value == vote


async def test_grant_loses_to_deny_of_another_plugin(open_session) -> None:
    # tally grants "open" items; hostile traps (fail closed -> deny) on "abort".
    dispatcher = Dispatcher({"item_access": ["tally", "hostile"]}, Metrics())
    async with open_session() as session:
        outcome = await dispatcher.invoke(
            session, "item_access", {"item": item_payload("abort", type="open"), "op": "view"})
    assert outcome.value == DENY
    assert isinstance(outcome.failures[0], PluginTrap)


async def test_fail_open_render_vs_fail_closed_access(open_session) -> None:
    metrics = Metrics()
    view = Dispatcher({"item_view": ["hostile", "hello"]}, metrics)
    access = Dispatcher({"item_access": ["hostile", "hello"]}, metrics)
    async with open_session() as session:
        rendered = await view.invoke(session, "item_view",
                                     {"item": item_payload("abort"), "view_mode": "full"})
        assert [r.plugin for r in rendered.replies] == ["hello"]  # hostile's element skipped
        assert rendered.failures[0].plugin == "hostile"
        voted = await access.invoke(session, "item_access",
                                    {"item": item_payload("abort"), "op": "view"})
        assert voted.value == DENY
    count = metrics.registry.get_sample_value(
        "trovato_plugin_traps_total", {"plugin": "hostile", "tap": "item_access",
                                       "reason": "trap"})
    assert count == 1
    assert metrics.registry.get_sample_value(
        "trovato_tap_duration_seconds_count", {"plugin": "hello", "tap": "item_view"}) == 1


async def test_fail_closed_non_access_tap_raises(open_session) -> None:
    dispatcher = Dispatcher({"item_presave": ["hostile", "hello"]})
    async with open_session() as session:
        with pytest.raises(PluginTrap):
            await dispatcher.invoke(session, "item_presave", {"item": item_payload("abort")})
        # Only plugins implementing a tap are instantiated.
        outcome = await Dispatcher({"item_presave": ["hello"]}).invoke(
            session, "item_presave", {"item": item_payload(" ok ")})
        assert outcome.value["title"] == "ok"


async def test_invalid_kernel_payload_is_a_kernel_bug(open_session) -> None:
    async with open_session() as session:
        with pytest.raises(ValueError, match="invalid payload"):
            await Dispatcher({}).invoke(session, "item_access", {"item": {}, "op": "view"})
        with pytest.raises(KeyError):
            await Dispatcher({}).invoke(session, "no_such_tap", {})
