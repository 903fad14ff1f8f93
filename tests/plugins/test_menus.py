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
