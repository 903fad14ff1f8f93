"""blog: blog posts, a /blog index of the newest posts, and authors editing their own posts.

The blog type's permissions (``create blog content``, ``edit own blog content``, …) are the
kernel's, made for every item type, so the plugin declares none of its own.

The reference plugin of DESIGN §6.3. The kernel renders the post's fields (body, tags); this
plugin only adds a "blog-post" container with a link back to the index: "From the blog" under a
teaser, "More posts" under the full post.
"""

from __future__ import annotations

from trovato_sdk import Access, Field, ItemType, Menu, render, tap


@tap
def item_info():
    return [ItemType("blog", "Blog post", fields=[
        Field.text_long("field_body", "Body", required=True),
        Field.reference("field_tags", "Tags", target="category_tag", cardinality=-1,
                        bundles=["tags"]),
    ])]


@tap
def menu():
    return [Menu("blog", "Blog", callback="blog_index", permission="access content")]


@tap
def item_view(item, view_mode, ctx):
    if item.type != "blog":
        return None
    tree = render.container(cls="blog-post").attr("data-view-mode", str(view_mode or "full"))
    if view_mode == "teaser":
        return tree.child("byline", render.link("/blog", "From the blog").cls("blog-byline"))
    return tree.child("more", render.link("/blog", "More posts").cls("blog-more"))


@tap
def item_access(item, op, ctx):
    if (op == "update" and ctx.user.authenticated and item.author_id == ctx.user.id
            and ctx.user.can("edit own blog content")):
        return Access.GRANT
    return Access.NEUTRAL


def blog_index(request, ctx):
    """Menu callback: the 10 newest published blog posts, as links."""
    posts = ctx.items.query(type="blog", status=1, sort="-created", limit=10)
    if not posts:
        return render.markup("No blog posts yet.", tag="p").cls("blog-empty")
    return render.container(cls="blog-index").child(
        "posts", render.list([render.link(f"/item/{p.id}", p.title) for p in posts]))
