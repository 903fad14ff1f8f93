"""The Python SDK in plain CPython: render builders, wrappers, and FakeContext."""

from __future__ import annotations

import inspect
import json
import logging
from pathlib import Path

import pytest
from trovato_sdk import Access, Field, ItemType, ItemWriteError, Menu, Permission, _runtime, render
from trovato_sdk._runtime import encode, merge_patch
from trovato_sdk.testing import FakeContext, PluginFailed, load_plugin

from trovato.render.sanitize import sanitize

HELLO = Path(__file__).resolve().parents[2] / "plugins" / "hello"


def test_render_builders() -> None:
    tree = render.container(cls="a b", attrs={"id": "x"}).child(
        "t", render.markup("<b>", tag="p").weight(3)).cls("c").attr("class", "a d")
    assert tree == {"#type": "container", "#tag": "div",
                    "#attributes": {"id": "x", "class": ["a", "b", "c", "d"]},
                    "t": {"#type": "markup", "#value": "<b>", "#tag": "p", "#weight": 3}}
    assert render.markup("x", format="basic_html")["#format"] == "basic_html"
    assert render.link("/a", "A") == {"#type": "link", "#href": "/a", "#text": "A"}
    assert render.list(["a"], ordered=True) == {"#type": "list", "#items": ["a"],
                                                 "#ordered": True}
    assert render.table(["h"], [["c"]]) == {"#type": "table", "#header": ["h"],
                                            "#rows": [["c"]]}
    assert render.image("/i.png", "alt")["#alt"] == "alt"
    with pytest.raises(ValueError):
        tree.child("#bad", render.markup("x"))


def test_declarations_encode() -> None:
    assert encode(Access.DENY) == "deny"
    assert encode(Permission("do x"))["title"] == "Do x"
    assert encode(Menu("/a/", "A", callback=test_declarations_encode))["path"] == "a"
    item_type = encode(ItemType("t", "T", fields=[Field.reference("f", "F", target="tag",
                                                                  cardinality=-1)]))
    assert item_type["fields"][0]["settings"] == {"target_type": "tag"}
    with pytest.raises(TypeError):
        encode(object())


def test_merge_patch() -> None:
    assert merge_patch({"a": 1, "b": {"c": 1}}, {"b": {"c": 2}, "d": 3}) == \
        {"a": None, "b": {"c": 2}, "d": 3}
    assert merge_patch({"a": 1}, {}) == {"a": None}


def test_hello_with_fake_context() -> None:
    plugin = load_plugin(HELLO)
    ctx = FakeContext(plugin=plugin, permissions={"use hello"},
                      user={"id": "u1", "name": "ada", "roles": [], "authenticated": True},
                      items=[{"id": "i1", "type": "page", "title": "Post", "status": 1,
                              "created": "2026"}])
    ctx.call_tap("install")
    assert ctx.stored_variables["greeting"] == "Hello"
    tree = ctx.call_tap("item_view", item={"id": "i1", "type": "page", "title": "Ann"})
    assert tree["greeting"]["#value"] == "Hello, Ann!"
    patch = ctx.call_tap("item_view_alter", build={"#type": "container"},
                         item={"type": "page"}, _alter="build")
    assert patch == {"patch": {"#attributes": {"class": ["hello-altered"]}}}
    assert ctx.call_tap("item_access", item={"type": "secret"}, op="view") == "deny"
    with pytest.raises(PluginFailed) as refused:
        ctx.call_tap("item_presave", item={"type": "page", "title": " "}, _alter="item")
    assert refused.value.kind == "refused"
    page = ctx.call_function("hello_page", request={"path": "hello", "args": {}})
    assert page["recent"]["#items"][0]["#text"] == "Post"
    assert ctx.tables["visit"][0]["visitor"] == "ada"
    assert ctx.cached["page:ada"][2] == ["hello:page"]
    ctx.on_invoke("tally", "double", lambda p: {"n": p["n"] * 2})
    report = ctx.call_function("everything", {"invoke": True})
    assert report["invoked"] == {"n": 42} and report["cache_after_invalidate"] is None
    assert ("info", "everything: start") in ctx.logs
    assert ctx.call_tap("cron")["job"] and ctx.queues["greetings"]
    # Direct calls work too: a FakeContext is a Context.
    assert plugin.item_access.__name__ == "item_access"


def test_calls_reuse_what_prepare_worked_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """The guest entry calls ``prepare()`` at build time, so no call introspects the plugin
    again (``inspect.signature`` and the module scan were a third of a small tap's time)."""
    plugin = load_plugin(HELLO)
    ctx = FakeContext(plugin=plugin, permissions={"use hello"})

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("introspected during a call")

    with monkeypatch.context() as patched:  # undone before pytest reports a failure
        patched.setattr(inspect, "signature", refuse)
        patched.setattr(inspect, "isfunction", refuse)
        tree = ctx.call_tap("item_view", item={"id": "i1", "type": "page", "title": "Ann"})
        page = ctx.call_function("hello_page", request={"path": "hello", "args": {}})
    assert tree["greeting"]["#value"] == "Hello, Ann!"
    assert page["#type"]
    assert set(_runtime.functions()) >= {"hello_page", "everything"}


def test_fake_db_refuses_undeclared_tables() -> None:
    plugin = load_plugin(HELLO)
    ctx = FakeContext(plugin=plugin)
    with pytest.raises(Exception, match="unknown table"):
        ctx.db.select("nope")


@pytest.mark.parametrize("ordered", [False, True])
def test_sdk_lists_pass_the_kernel_sanitizer_unchanged(
        ordered: bool, caplog: pytest.LogCaptureFixture) -> None:
    """The SDK builds lists the way the kernel's list element takes them: nothing is dropped
    (a dropped property is logged as a warning on every render)."""
    caplog.set_level(logging.WARNING, logger="trovato.render")
    tree = render.container().child(
        "l", render.list(["a", render.link("/b", "B")], ordered=ordered))
    clean = sanitize(tree, source="plugin:test")
    assert caplog.records == []
    assert clean["l"]["#ordered"] is ordered
    assert clean["l"]["#items"][0] == "a"


def test_an_exception_reports_type_message_and_the_authors_traceback(tmp_path: Path) -> None:
    (tmp_path / "plugin.toml").write_text('[plugin]\nname = "oops"\nversion = "1.0.0"\n')
    (tmp_path / "helpers.py").write_text("def half(value):\n    return value / 0\n")
    (tmp_path / "plugin.py").write_text(
        "from trovato_sdk import tap\n"
        "from helpers import half\n\n\n"
        "@tap\n"
        "def cron():\n"
        "    return half(3)\n")
    plugin = load_plugin(tmp_path)
    with pytest.raises(_runtime.Failure) as caught:
        _runtime.run_tap("cron", "{}", FakeContext(plugin=plugin).backend)
    error = json.loads(str(caught.value))
    assert error["kind"] == "exception" and error["type"] == "ZeroDivisionError"
    assert error["message"] == "ZeroDivisionError: division by zero"
    trace = error["traceback"]
    assert trace.startswith("Traceback (most recent call last):\n")
    assert 'File "plugin.py", line 7, in cron\n    return half(3)' in trace
    assert 'File "helpers.py", line 2, in half\n    return value / 0' in trace
    assert trace.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "_runtime.py" not in trace and str(tmp_path) not in trace


def test_an_uncaught_host_refusal_keeps_the_kernels_message_and_the_traceback(
        tmp_path: Path) -> None:
    (tmp_path / "plugin.toml").write_text('[plugin]\nname = "nosy"\nversion = "1.0.0"\n')
    (tmp_path / "plugin.py").write_text(
        "from trovato_sdk import tap\n\n\n"
        "@tap\n"
        "def cron(ctx):\n"
        "    return ctx.db.select('nope')\n")
    plugin = load_plugin(tmp_path)
    with pytest.raises(PluginFailed) as caught:
        FakeContext(plugin=plugin).call_tap("cron")
    assert caught.value.kind == "host" and "unknown table" in caught.value.message
    assert 'File "plugin.py", line 6, in cron' in caught.value.traceback


def test_items_save_and_delete_send_the_api_bodies_and_raise_refusals() -> None:
    ctx = FakeContext(items=[{"id": "i1", "type": "page", "title": "Old", "status": 1,
                              "revision_id": "r1", "fields": {"body": {"value": "x"}}}])
    sent: list[dict[str, object]] = []
    save = ctx.backend.item_save

    def recording(item: dict[str, object]) -> dict[str, object]:
        sent.append(item)
        return save(item)

    ctx.backend.item_save = recording  # type: ignore[method-assign]
    loaded = ctx.items.load("i1")
    assert loaded is not None and loaded.revision_id == "r1"
    loaded.title = "New"
    saved = ctx.items.save(loaded, log="why")
    # A loaded item is sent as a PATCH body with its revision (the optimistic check).
    assert sent[0] == {"id": "i1", "revision_id": "r1", "title": "New", "status": 1,
                       "fields": {"body": {"value": "x"}}, "log": "why"}
    assert saved.title == "New" and saved.revision_id != "r1"
    with pytest.raises(ItemWriteError) as stale:
        ctx.items.save(loaded)  # still holds r1
    assert stale.value.status == 409
    created = ctx.items.save({"type": "page", "title": "Fresh", "author_id": "ignored"})
    assert sent[-1] == {"type": "page", "title": "Fresh"} and created.id
    with pytest.raises(ItemWriteError) as untyped:
        ctx.items.save({"title": "No type"})
    assert untyped.value.errors == {"type": "required: the item type's machine name"}
    ctx.items.delete(created)
    assert ctx.items.load(created.id) is None
    with pytest.raises(ItemWriteError, match="No such item"):
        ctx.items.delete("nope")


def test_item_write_errors_read_the_kernels_json() -> None:
    error = ItemWriteError.from_json(json.dumps(
        {"status": 422, "message": "The item is invalid.", "errors": {"title": "is required"}}))
    assert (error.status, error.errors) == (422, {"title": "is required"})
    assert str(error) == "The item is invalid. (title: is required)"
    assert ItemWriteError.from_json("not json").status == 500
