"""``trovato content bulk publish|unpublish|delete``: a bulk action from the command line.

The same batch as the admin's content list (:mod:`trovato.batch` with the operations of
:mod:`trovato.content.bulk`), run to its end here with a progress bar: every item goes through
the content service, as the command line's operator (an administrator without an account, as
for ``trovato stage``). The items are the ``--id`` ones, or every live item of ``--type`` (both:
the ``--id`` ones of that type). Deleting asks for ``--yes``: there is no undo.
"""

from __future__ import annotations

import uuid

import typer

from trovato.batch import Batch, Batches
from trovato.cli import _output
from trovato.cli._runtime import with_kernel
from trovato.cli.stage import OPERATOR
from trovato.content.bulk import BULK_ACTIONS, bulk_operations, summary
from trovato.content.statements import MAX_LIMIT
from trovato.kernel.services import Kernel

app = typer.Typer(help="Content: bulk actions on items.", no_args_is_help=True)


async def _chosen(kernel: Kernel, type_name: str | None, ids: list[str]) -> list[str]:
    """The ids to act on, through the item query path."""
    query = kernel.content.query
    if ids:
        items = await query.load_many(OPERATOR, ids)
        return [str(i.id) for i in items if type_name is None or i.type == type_name]
    found: list[str] = []
    page = 0
    while True:
        listing = await query.list(OPERATOR, type=type_name, sort="created", page=page,
                                   limit=MAX_LIMIT, fields=False)
        found.extend(str(i.id) for i in listing.items)
        if len(found) >= listing.total or not listing.items:
            return found
        page += 1


@app.command()
def bulk(
    action: str = typer.Argument(..., metavar="ACTION", help="publish, unpublish or delete."),
    type_name: str | None = typer.Option(None, "--type", help="Only items of this type."),
    ids: list[str] = typer.Option([], "--id", help="An item's id (repeat for more)."),
    yes: bool = typer.Option(False, "--yes", help="Delete without asking again."),
) -> None:
    """Publish, unpublish or delete many items, with a progress bar."""
    if action not in BULK_ACTIONS:
        raise _output.fail(f"ACTION must be one of: {', '.join(BULK_ACTIONS)}")
    if type_name is None and not ids:
        raise _output.fail("Say which items: --type TYPE, --id ID (repeatable), or both.")
    bad = [i for i in ids if not _is_uuid(i)]
    if bad:
        raise _output.fail(f"--id: not an item id: {bad[0]}")
    if action == "delete" and not yes:
        raise _output.fail("Deleting cannot be undone: add --yes to delete.")

    async def run(kernel: Kernel) -> Batch | None:
        if type_name is not None and await kernel.content.types.get(type_name) is None:
            raise _output.fail(f"--type: there is no item type {type_name!r}")
        chosen = await _chosen(kernel, type_name, ids)
        if not chosen:
            return None
        batches = Batches(kernel.store, bulk_operations(kernel.content.items))
        owner = f"cli:{uuid.uuid4()}"
        batch = await batches.start(owner, f"content.{action}", chosen,
                                    title=BULK_ACTIONS[action][0], return_to="",
                                    params={"action": action})
        with _output.progress_bar(f"{BULK_ACTIONS[action][0]} {len(chosen)} item(s)",
                                  len(chosen)) as done:
            finished = await batches.run(batch.id, owner, OPERATOR,
                                         lambda state: done(state.position))
        await batches.forget(batch.id)
        return finished

    finished = with_kernel(run)
    if finished is None:
        _output.warning("No item matches: nothing to do.")
        return
    for label, reason in finished.skipped:
        _output.warning(f"skipped {label}: {reason}")
    _output.result(summary(action, finished.done))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
