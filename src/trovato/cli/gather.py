"""``trovato gather list|show|new|explain|import|export|index``: Gather listings from the
command line, acting as the site's operator (an administrator without an account) through the
same Gather service the API uses.

``new`` writes a simple listing from options (its type, sort, page size and displays) through
the Python definition API (:mod:`trovato.gather.builder`); anything richer is a YAML file for
``import``.

Definitions travel as YAML (``export`` writes one to stdout or a file, ``import`` creates or
replaces one from a file, raising its version). ``explain`` prints PostgreSQL's plan of a
listing's first page as an anonymous visitor reads it. ``index create|drop FIELD`` adds or
removes an expression index on a hot JSONB field, written exactly as the compiler writes the
field, so the filters and sorts on it can use it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import typer
from rich.table import Table

from trovato.cli import _output
from trovato.cli._runtime import with_kernel
from trovato.gather import GatherError, Stored
from trovato.gather.builder import Listing
from trovato.gather.exchange import dump_yaml, load_yaml
from trovato.ids import NIL
from trovato.kernel.services import Kernel
from trovato.users.accounts import CurrentUser

T = TypeVar("T")

OPERATOR = CurrentUser(id=NIL, name="command line", is_admin=True)
VISITOR = CurrentUser(id=NIL, name="", permissions=frozenset({"access content"}))

app = typer.Typer(help="Gather: declarative listings (the front page is one).",
                  no_args_is_help=True)
index_app = typer.Typer(help="Expression indexes for hot JSONB fields.", no_args_is_help=True)
app.add_typer(index_app, name="index")


def _problem(exc: GatherError) -> str:
    fields = "; ".join(f"{name}: {message}" for name, message in exc.errors.items())
    return f"{exc.message} ({fields})" if fields else exc.message


def _run(action: Callable[[Kernel], Awaitable[T]]) -> T:
    try:
        return with_kernel(action)
    except GatherError as exc:
        raise _output.fail(_problem(exc)) from None


@app.command("list")
def list_() -> None:
    """List the listings with their version and displays."""

    async def stored(kernel: Kernel) -> list[Stored]:
        return await kernel.gather.all(OPERATOR)

    table = Table("name", "label", "version", "displays", "changed")
    for one in _run(stored):
        displays = one.definition.displays
        shown = [f"{kind} {getattr(displays, kind).path}" for kind in ("page", "feed")
                 if getattr(displays, kind) is not None]
        if displays.json_ is not None:
            shown.append("json")
        table.add_row(one.name, one.definition.label, str(one.version), ", ".join(shown),
                      one.changed.strftime("%Y-%m-%d %H:%M"))
    _output.show(table)


@app.command()
def show(name: str = typer.Argument(..., help="The listing's machine name.")) -> None:
    """Print a listing's definition (YAML)."""

    async def get(kernel: Kernel) -> Stored:
        return await kernel.gather.get(OPERATOR, name)

    _output.result(dump_yaml(_run(get).definition).rstrip("\n"))


@app.command()
def export(
    name: str = typer.Argument(..., help="The listing's machine name."),
    output: Path | None = typer.Option(None, "--output", "-o", help="A file (default: stdout)."),
) -> None:
    """Export a listing's definition as YAML."""

    async def get(kernel: Kernel) -> Stored:
        return await kernel.gather.get(OPERATOR, name)

    text = dump_yaml(_run(get).definition)
    if output is None:
        _output.result(text.rstrip("\n"))
    else:
        output.write_text(text, encoding="utf-8")
        _output.result(f"Exported {name} to {output}.")


@app.command("import")
def import_(path: Path = typer.Argument(..., exists=True, dir_okay=False,
                                        help="A YAML (or JSON) definition.")) -> None:
    """Create a listing from a YAML file, or replace the same-named one."""
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise _output.fail(f"{path} is not YAML: {exc}") from None
    except GatherError as exc:
        raise _output.fail(f"{path}: {exc.message}") from None

    async def put(kernel: Kernel) -> Stored:
        return await kernel.gather.put(OPERATOR, document["name"], document)

    stored = _run(put)
    _output.result(f"Imported {stored.name} (version {stored.version}).")


@app.command()
def new(
    name: str = typer.Argument(..., help="The listing's machine name."),
    label: str | None = typer.Option(None, help="Its human name (default: the name)."),
    item_type: list[str] = typer.Option([], "--type", help="An item type it lists "
                                        "(repeatable; default: every type)."),
    sort: list[str] = typer.Option([], help="FIELD or FIELD:desc (repeatable; default: "
                                   "newest first)."),
    per_page: int = typer.Option(25, help="Items per page."),
    page: str | None = typer.Option(None, help="The path of its page display."),
    feed: str | None = typer.Option(None, help="The path of its RSS feed."),
    json_display: bool = typer.Option(False, "--json", help="Give it the JSON display."),
) -> None:
    """Create a simple listing of items from options.

    For anything richer (relationships, exposed filters, other bases) write the definition
    and use `trovato gather import`."""
    listing = Listing(name, label).page(per_page)
    if len(item_type) == 1:
        listing.filter("type", "equals", item_type[0])
    elif item_type:
        listing.filter("type", "in", item_type)
    for key in sort:
        field, _, direction = key.partition(":")
        if direction not in ("", "asc", "desc"):
            raise _output.fail(f"--sort {key}: the direction is asc or desc.")
        listing.sort(field, "desc" if direction == "desc" else "asc")
    if page is not None:
        listing.page_display(page)
    if feed is not None:
        listing.feed(feed)
    if json_display:
        listing.json()

    async def create(kernel: Kernel) -> Stored:
        return await kernel.gather.create(OPERATOR, listing.build().document())

    stored = _run(create)
    _output.result(f"Created {stored.name} (version {stored.version}).")


@app.command()
def explain(name: str = typer.Argument(..., help="The listing's machine name.")) -> None:
    """Print the SQL plan of a listing's first page.

    The plan is PostgreSQL's, for the page an anonymous visitor reads.
    """

    async def plan(kernel: Kernel) -> str:
        return await kernel.gather.explain(OPERATOR, name, reader=VISITOR)

    _output.result(_run(plan))


@index_app.command("create")
def index_create(field: str = typer.Argument(
        ..., help="A single-valued field of an item type.")) -> None:
    """Create an expression index on a single-valued JSONB field.

    The ``search`` field needs none: it matches the site search's words, which every site
    indexes.
    """

    async def create(kernel: Kernel) -> str:
        return await kernel.gather.create_index(OPERATOR, field)

    _output.result(f"Index {_run(create)} is ready.")


@index_app.command("drop")
def index_drop(field: str = typer.Argument(..., help="A field of an item type.")) -> None:
    """Drop a field's expression index."""

    async def drop(kernel: Kernel) -> bool:
        return await kernel.gather.drop_index(OPERATOR, field)

    _output.result(f"Dropped the index on {field}." if _run(drop)
                   else f"There was no index on {field}.")
