"""``trovato config export|import``: the site's configuration as a folder of YAML files, one
per object, acting as the site's operator through each kind's own service
(:mod:`trovato.config`; docs/configuration.md, "Configuration management").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import typer

from trovato.cli import _output
from trovato.cli._runtime import with_kernel
from trovato.cli.stage import OPERATOR
from trovato.config import (
    Change,
    ConfigError,
    Site,
    collect_config,
    import_config,
    read_config,
    write_config,
)
from trovato.content.type_service import CHANNEL as ITEM_TYPES_CHANNEL
from trovato.gather.storage import PATHS_TAG
from trovato.kernel.services import Kernel
from trovato.tiles.service import TILES_TAG
from trovato.users.roles import Roles

app = typer.Typer(
    help="Site configuration as YAML files: export, import.\n\nItem types and fields,"
         " vocabularies, roles and permissions, stages, Gather listings, tiles, the main"
         " menu, image styles and site settings, one file per object, to keep in version"
         " control and move between sites.",
    no_args_is_help=True)

def site_of(kernel: Kernel) -> Site:
    """The services of ``kernel`` that hold the configuration."""
    return Site(db=kernel.db, types=kernel.content.types,
                purge_items=kernel.content.items.purge_type, categories=kernel.categories,
                roles=Roles(kernel.db, kernel.permissions), stages=kernel.stages,
                gather=kernel.gather, tiles=kernel.tiles, search=kernel.search,
                styles=kernel.files.styles, user=OPERATOR)


@app.command("export")
def export(folder: Path = typer.Argument(..., file_okay=False,
                                         help="The folder to write (created if needed).")
           ) -> None:
    """Export the site's configuration as YAML files under FOLDER.

    One file per object, in the folders vocabularies, item_types, roles, stages, gather,
    tiles, menus, image_styles and settings (who may register, the search language); keys
    sorted, so an unchanged site
    exports the same bytes. Files of objects the site no longer has are removed from those
    folders; nothing else in FOLDER is touched. Tags are content and are not exported
    (`trovato categories export`)."""

    async def run(kernel: Kernel) -> dict[str, dict[str, str]]:
        with _output.working("Reading the configuration…"):
            return await collect_config(site_of(kernel))

    try:
        results = write_config(folder, with_kernel(run))
    except ConfigError as exc:
        raise _output.fail(str(exc)) from None
    written = sum(len(r.written) for r in results)
    unchanged = sum(len(r.unchanged) for r in results)
    removed = sum(len(r.removed) for r in results)
    for result in results:
        for path in result.written:
            _output.say("  wrote ", (path, "bold"))
        for path in result.removed:
            _output.say("  removed ", (path, "bold"))
    _output.result(f"Exported to {folder}: {written} written, {unchanged} unchanged,"
                   f" {removed} removed.")


@contextmanager
def _reporting(dry_run: bool) -> Iterator[tuple[Callable[[int], None], Callable[[Change], None]]]:
    """The import's ``planned`` and ``done`` callbacks: a progress bar over the changes, and
    one line per change (the dry run's report)."""
    with ExitStack() as stack:
        advance: list[Callable[[], None]] = []

        def planned(total: int) -> None:
            if total:
                advance.append(stack.enter_context(
                    _output.progress("Checking the changes…" if dry_run
                                     else "Importing the configuration…", total)))

        def done(change: Change) -> None:
            if advance:
                advance[0]()

        yield planned, done


@app.command("import")
def import_(
    folder: Path = typer.Argument(..., file_okay=False,
                                  help="A folder written by `trovato config export`."),
    dry_run: bool = typer.Option(False, "--dry-run",
                                 help="Print what would be created, updated and deleted, and"
                                      " change nothing."),
    keep_absent: bool = typer.Option(False, "--keep-absent",
                                     help="Keep the objects FOLDER does not have (by default"
                                          " they are deleted, so the site matches FOLDER)."),
    delete_content: bool = typer.Option(False, "--delete-content",
                                        help="Allow deletes that delete content with the"
                                             " object: an item type's items, a vocabulary's"
                                             " tags, a stage's changes."),
) -> None:
    """Make the site's configuration that of FOLDER, all or nothing.

    Every file (in the folders `trovato config export` writes) is read and checked
    first; then, in ONE transaction, what differs is created or updated through each
    kind's service (with its validation and audit log entries), and objects FOLDER lacks
    are deleted (a kind whose whole folder is missing is left alone). The first refusal
    changes nothing and names the file and the field. An item type with items, a
    vocabulary with tags or a stage is only deleted with --delete-content; --keep-absent
    deletes nothing. A new search language (settings/site.yaml) reindexes every item in
    the same transaction. Exit status: 0 done, 1 refused."""
    try:
        read = read_config(folder)
    except ConfigError as exc:
        raise _output.fail(str(exc)) from None
    changes: list[Change] = []

    async def run(kernel: Kernel) -> None:
        async def announce() -> None:
            # The services told the other processes as they went, before the commit; tell
            # them again now that the changes are visible. The item types' message makes
            # every process drop its Gather definitions and results and its cached pages.
            await kernel.store.pubsub.publish(ITEM_TYPES_CHANNEL, {"event": "changed"})
            await kernel.permissions.announce()
            await kernel.stages.changed()
            if kernel.tiles.invalidate is not None:
                await kernel.tiles.invalidate([TILES_TAG, PATHS_TAG])

        with _reporting(dry_run) as (planned, done):
            def record(change: Change) -> None:
                changes.append(change)
                done(change)

            await import_config(site_of(kernel), read, dry_run=dry_run,
                                delete_absent=not keep_absent, delete_content=delete_content,
                                planned=planned, done=record, announce=announce)

    try:
        with_kernel(run)
    except ConfigError as exc:
        raise _output.fail(str(exc)) from None
    for change in changes:
        _output.result(f"{change.action} {change.folder}/{change.name}"
                       + (f" ({change.note})" if change.note else ""))
    verb = "Would change" if dry_run else "Changed"
    summary = ", ".join(f"{sum(c.action == a for c in changes)} {a}d"
                        for a in ("create", "update", "delete"))
    if not changes:
        _output.say("Nothing to change: the site's configuration is that of the folder.")
    else:
        _output.say(f"{verb} {len(changes)} object(s): {summary}"
                    + (" (dry run: nothing was changed)." if dry_run else "."))
