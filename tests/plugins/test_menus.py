"""The guard of menu callbacks: the permission belongs to the callback, not to the route."""

from __future__ import annotations

import pytest

from tests.plugins.conftest import make_user
from trovato.plugins.dispatch import TapOutcome, TapReply
from trovato.plugins.errors import PluginError
from trovato.plugins.host import PluginUser
from trovato.plugins.menus import CallbackGuard, CallbackRefused, MenuEntry, read_menus


def _entry(plugin: str, callback: str, permission: str | None, path: str = "x") -> MenuEntry:
    return MenuEntry(plugin, path, "T", callback, permission, "GET")


def test_a_callback_needs_its_permission_from_any_caller() -> None:
    guard = CallbackGuard([_entry("shop", "orders_page", "view shop orders")])
    with pytest.raises(CallbackRefused, match="view shop orders") as refused:
        guard.check(PluginUser.anonymous(), "shop", "orders_page")
    assert refused.value.permission == "view shop orders"
    guard.check(make_user("view shop orders"), "shop", "orders_page")
    guard.check(make_user(admin=True), "shop", "orders_page")
    # Functions that are not menu callbacks, and public callbacks, need nothing.
    guard.check(PluginUser.anonymous(), "shop", "helper")
    guard.check(PluginUser.anonymous(), "other", "orders_page")


def test_a_callback_of_several_entries_needs_all_their_permissions() -> None:
    guard = CallbackGuard([_entry("shop", "page", "a", "one"), _entry("shop", "page", "b", "two"),
                           _entry("shop", "page", None, "three")])
    assert guard.permissions("shop", "page") == ("a", "b")
    with pytest.raises(CallbackRefused, match="'b'"):
        guard.check(make_user("a"), "shop", "page")
    guard.check(make_user("a", "b"), "shop", "page")


def test_a_plugin_whose_menu_was_not_read_has_every_function_refused() -> None:
    failed = TapOutcome("menu", replies=[
        TapReply("shop", [{"path": "/shop/orders/", "title": "Orders", "callback": "orders_page",
                           "permission": "view shop orders"}])],
        failures=[PluginError("broken", "menu", "trap")])
    entries, guard = read_menus(failed, ["shop", "broken"])
    assert entries == [MenuEntry("shop", "shop/orders", "Orders", "orders_page",
                                 "view shop orders", "GET")]
    with pytest.raises(CallbackRefused, match="menu of plugin 'broken' could not be read"):
        guard.check(make_user(admin=True), "broken", "anything")
    with pytest.raises(CallbackRefused, match="could not be read"):
        guard.check(make_user(admin=True), "not_enabled_yet", "anything")
    guard.check(make_user("view shop orders"), "shop", "orders_page")


def test_the_router_matches_whole_paths_only() -> None:
    from types import SimpleNamespace

    from trovato.kernel.menu import MenuRouter

    manager = SimpleNamespace(menus=(_entry("shop", "orders_page", "p", "shop/orders"),
                                     _entry("shop", "year_page", None, "shop/{year}")))
    router = MenuRouter(manager)  # type: ignore[arg-type]
    entry, args = router.match("/shop/orders", "GET")
    assert entry is not None and entry.callback == "orders_page" and args == {}
    entry, args = router.match("/shop/2026/", "GET")
    assert entry is not None and entry.callback == "year_page" and args == {"year": "2026"}
    # A wildcard takes any segment text; a literal path matches only itself.
    assert router.match("/shop/orders\n", "GET")[1] == {"year": "orders\n"}
    static = MenuRouter(SimpleNamespace(menus=manager.menus[:1]))  # type: ignore[arg-type]
    assert static.match("/shop/orders\n", "GET") == (None, {})
    assert static.match("/shop/orders", "POST") == (None, {"allowed": "GET"})
