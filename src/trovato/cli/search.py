"""``trovato search reindex|language``: recompute every item's search vector (and its stage
edits', which searches in stages read), with a progress bar; show or change the search
language (which reindexes, with the same bar).

Writes keep the vectors current by themselves (database triggers); a reindex is for after a
change that triggers do not see: a type's search field weights (``search_field_config``) or a
field's type.
"""

from __future__ import annotations

import typer

from trovato.cli import _output
from trovato.cli._runtime import with_kernel
from trovato.kernel.services import Kernel
from trovato.search import SearchError

app = typer.Typer(help="Site search: rebuild its index, set its language.",
                  no_args_is_help=True)


@app.command()
def reindex() -> None:
    """Recompute every item's search words, with a progress bar.

    Run it after changing a type's search field weights or a field's type: saving an item
    keeps its own words current, a reindex rewrites every item's."""

    async def run(kernel: Kernel) -> int:
        total = await kernel.search.item_count()
        with _output.progress_bar(f"Indexing {total} item(s)", total) as done:
            return await kernel.search.reindex(lambda count, _total: done(count))

    indexed = with_kernel(run)
    _output.result(f"Indexed {indexed} item(s).")


@app.command()
def language(name: str = typer.Argument(
        "", help="A PostgreSQL text search configuration (english, german, simple …).")) -> None:
    """Show the search language, or set it and reindex.

    With NAME, the language becomes NAME and every item is reindexed, with a progress bar.
    The language decides how words are stemmed ("plugins" finds "plugin" in english);
    simple reads words as written."""

    async def run(kernel: Kernel) -> str:
        if not name:
            return f"The search language is {await kernel.search.language()}."
        # Refused before the bar is drawn; the name as the service reads it (trimmed).
        chosen = await kernel.search.check_language(name)
        total = await kernel.search.item_count()
        with _output.progress_bar(f"Indexing {total} item(s)", total) as done:
            changed = await kernel.search.set_language(
                chosen, progress=lambda count, _total: done(count))
        return (f"The search language is now {chosen}; every item was reindexed." if changed
                else f"The search language already is {chosen}.")

    try:
        said = with_kernel(run)
    except SearchError as exc:
        raise _output.fail("; ".join(exc.errors.values()) or exc.message) from None
    _output.result(said)
