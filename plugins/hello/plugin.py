"""hello: a small plugin that uses every host function and several taps.

It doubles as the reference example for plugin authors (docs/plugins.md).
"""

from __future__ import annotations

from greeting import greet
from trovato_sdk import Access, Field, ItemType, Menu, Permission, Refused, render, tap


@tap
def install(ctx):
    ctx.variables.set("greeting", "Hello")
    ctx.variables.set("installed_at", ctx.now())
    ctx.log.info("hello installed")


@tap
def enable(ctx):
    ctx.log.info("hello enabled")


@tap
def perm():
    return [
        Permission("use hello", "Use the hello page"),
        Permission("see secrets", "View secret items", restricted=True),
    ]


@tap
def menu():
    return [
        Menu("hello", "Hello", callback="hello_page", permission="use hello"),
        Menu("hello/{name}", "Hello someone", callback=hello_page, permission="use hello"),
    ]


@tap
def item_info():
    return [ItemType("greeting", "Greeting", fields=[
        Field.text_long("field_body", "Body", required=True),
        Field.reference("field_tags", "Tags", target="category_tag", cardinality=-1),
    ])]


@tap
def item_view(item, ctx):
    # request-context: count how many items this request rendered (shared by all plugins).
    seen = ctx.request_context.get("hello.views", 0) + 1
    ctx.request_context.set("hello.views", seen)
    greeting = ctx.variables.get("greeting", "Hello")
    tree = render.container(cls="hello").child(
        "greeting", render.markup(greet(item.title, greeting), tag="p").weight(-5)
    )
    body = item.fields.get("field_body")
    if body is not None:
        tree.child("body", render.markup(body.value, format=body.format))
    tree.attr("data-views", str(seen))
    return tree


@tap
def item_view_alter(build, item, ctx):
    # An alter tap edits in place; the SDK sends the kernel only the change.
    build.setdefault("#attributes", {}).setdefault("class", []).append("hello-altered")


@tap
def item_presave(item, ctx):
    if not item.title.strip():
        raise Refused("A title is required.")
    if "spam" in item.title.lower():
        raise Refused("No spam, please.")
    item.title = item.title.strip()


@tap
def item_access(item, op, ctx):
    if item.type == "secret" and op == "view" and not ctx.user.can("see secrets"):
        return Access.DENY
    if op == "update" and ctx.user.authenticated and item.author_id == ctx.user.id:
        return Access.GRANT
    return Access.NEUTRAL


@tap
def cron(ctx):
    job = ctx.queue.push("greetings", {"at": ctx.now()})
    ctx.cache.invalidate_tag("hello:page")
    ctx.log.info(f"queued greeting job {job}")
    return {"job": job}


@tap
def queue_info():
    return [{"queue": "greetings", "title": "Greetings to send", "lease": 30}]


@tap
def queue_worker(queue, job, ctx):
    _remember(ctx, f"queue:{queue}", "worker", job)


# Account events: each leaves a row in the plugin's own table, so tests (and curious
# administrators) can see that the kernel told the plugin.
@tap
def user_register(user, ctx):
    _remember(ctx, "user:register", user["id"], user)


@tap
def user_login(user, ctx):
    _remember(ctx, "user:login", user["id"], user)


@tap
def user_logout(user, ctx):
    _remember(ctx, "user:logout", user["id"], user)


@tap
def user_update(user, ctx):
    _remember(ctx, "user:update", user["id"], user)


def _remember(ctx, path, visitor, data):
    ctx.db.insert("visit", {"id": ctx.new_id(), "path": path, "visitor": visitor, "count": 1,
                            "seen": ctx.now(), "data": data})


def hello_page(request, ctx):
    """Menu callback: records the visit in the plugin's own table and lists recent items."""
    name = request.args.get("name") or ctx.user.name or "stranger"
    cached = ctx.cache.get(f"page:{name}")
    if cached is not None:
        return cached
    rows = ctx.db.select("visit", where={"visitor": name})
    if rows:
        ctx.db.update("visit", {"count": rows[0]["count"] + 1, "seen": ctx.now()},
                      where={"id": rows[0]["id"]})
    else:
        ctx.db.insert("visit", {"id": ctx.new_id(), "path": request.path,
                                "visitor": name, "count": 1, "seen": ctx.now(),
                                "data": {"query": request.query}})
    visits = ctx.db.select("visit", where={"visitor": name})[0]["count"]
    posts = ctx.items.query(type="page", status=1, sort="-created", limit=5)
    tree = render.container(cls="hello-page").child(
        "greeting", render.markup(greet(name), tag="h2")
    ).child(
        "visits", render.markup(f"Visits: {visits}")
    ).child(
        "recent", render.list([render.link(f"/item/{p.id}", p.title) for p in posts])
    )
    ctx.cache.set(f"page:{name}", tree, ttl=60, tags=["hello:page"])
    return tree


def everything(payload, ctx):
    """Calls every host function once and reports what it saw (for the kernel's tests)."""
    report = {}
    ctx.log.info("everything: start")
    ctx.log.warning("everything: warning")
    ctx.log.error("everything: error")
    ctx.variables.set("counter", ctx.variables.get("counter", 0) + 1)
    report["counter"] = ctx.variables.get("counter")
    report["missing_variable"] = ctx.variables.get("nope", "default")
    ctx.request_context.set("hello.key", {"from": "hello"})
    report["request_context"] = ctx.request_context.get("hello.key")
    report["user"] = {"id": ctx.user.id, "name": ctx.user.name,
                      "authenticated": ctx.user.authenticated, "roles": ctx.user.roles}
    report["can_use_hello"] = ctx.user.can("use hello")
    report["can_admin"] = ctx.user.can("administer site configuration")
    item_id = payload.get("item_id") if payload else None
    loaded = ctx.items.load(item_id) if item_id else None
    report["item"] = None if loaded is None else {"id": loaded.id, "title": loaded.title}
    report["items"] = [p.title for p in ctx.items.query(type="page", sort="title", limit=10)]
    row_id = ctx.new_id()
    report["inserted"] = ctx.db.insert("visit", {"id": row_id, "path": "x", "visitor": "v",
                                                 "count": 1, "data": {"a": [1, 2]}})
    report["updated"] = ctx.db.update("visit", {"count": 5}, where={"id": row_id})
    report["selected"] = ctx.db.select("visit", where={"id": row_id},
                                       columns=["visitor", "count", "data"])
    report["deleted"] = ctx.db.delete("visit", where={"id": row_id})
    ctx.cache.set("k", {"v": 1}, ttl=30, tags=["t1"])
    report["cache_hit"] = ctx.cache.get("k")
    ctx.cache.invalidate_tag("t1")
    report["cache_after_invalidate"] = ctx.cache.get("k")
    report["job"] = ctx.queue.push("jobs", {"n": 1})
    report["invoked"] = (ctx.invoke("tally", "double", {"n": 21})
                         if payload and payload.get("invoke") else None)
    report["now"] = ctx.now()
    return report
