"""``trovato stage list|create|diff|publish``: stages from the command line.

The command line is the site's operator (:data:`OPERATOR`, an administrator without an
account): it sees every stage and may publish any, through the same stage desk
(:class:`~trovato.stages.desk.StageDesk`) the pages and the API use. Labels and titles are
user text, printed literally (:mod:`trovato.cli._output`).
"""

from __future__ import annotations

import typer
from rich.table import Table

from trovato.cli import _output
from trovato.cli._runtime import with_kernel
from trovato.ids import NIL
from trovato.kernel.services import Kernel
from trovato.stages import LIVE, StageError
from trovato.stages.desk import Change, PublishOutcome, StageInfo
from trovato.users.accounts import CurrentUser

OPERATOR = CurrentUser(id=NIL, name="command line", is_admin=True)

app = typer.Typer(
    help="Stages: prepare a set of changes and publish them at once.", no_args_is_help=True
)


def _problem(exc: StageError) -> str:
    """The refusal's message and what it says of each field."""
    fields = "; ".join(f"{name}: {message}" for name, message in exc.errors.items())
    return f"{exc.message} ({fields})" if fields else exc.message


def _changes_table(changes: tuple[Change, ...] | list[Change]) -> Table:
    table = Table("change", "item", "type", "title")
    for change in changes:
        table.add_row(change.kind, str(change.item), change.type, change.title)
    return table


@app.command("list")
def list_() -> None:
    """List the stages, with their status and where each publishes to."""

    async def stages(kernel: Kernel) -> list[StageInfo]:
        return await kernel.stage_desk.usable(OPERATOR)

    table = Table("id", "label", "status", "publishes to", "created")
    for stage in with_kernel(stages):
        table.add_row(
            stage.id,
            stage.label,
            stage.status,
            stage.upstream,
            stage.created.strftime("%Y-%m-%d %H:%M"),
        )
    _output.show(table)


@app.command()
def create(
    stage_id: str = typer.Argument(..., metavar="ID", help="A machine name, like spring_sale."),
    label: str = typer.Option("", "--label", help="The name people see (default: the id)."),
    upstream: str = typer.Option(LIVE, "--upstream", help="The stage it publishes to."),
) -> None:
    """Create an open stage."""

    async def run(kernel: Kernel) -> StageInfo:
        return await kernel.stage_desk.create(OPERATOR, stage_id, label or stage_id, upstream)

    try:
        stage = with_kernel(run)
    except StageError as exc:
        raise _output.fail(_problem(exc)) from None
    _output.result(f"Created stage {stage.id} ({stage.label}), publishing to {stage.upstream}.")


@app.command()
def diff(stage_id: str = typer.Argument(..., metavar="ID", help="The stage.")) -> None:
    """Show the items a stage creates, edits and deletes."""

    async def run(kernel: Kernel) -> list[Change]:
        return await kernel.stage_desk.changes(OPERATOR, stage_id)

    try:
        changes = with_kernel(run)
    except StageError as exc:
        raise _output.fail(_problem(exc)) from None
    if not changes:
        _output.say(f"Stage {stage_id} changes nothing.")
        return
    _output.show(_changes_table(changes))


@app.command()
def publish(
    stage_id: str = typer.Argument(..., metavar="ID", help="The stage."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be published."),
    yes: bool = typer.Option(False, "--yes", help="Publish without asking."),
) -> None:
    """Publish a stage to its upstream, all of it at once or nothing.

    Conflicts with the upstream stop it (exit code 1) and are listed.
    """

    async def run(kernel: Kernel) -> PublishOutcome:
        desk = kernel.stage_desk
        planned = await desk.publish(OPERATOR, stage_id, dry_run=True)
        _report(planned)
        if dry_run or planned.conflicts:
            return planned
        if not yes and not typer.confirm(
            f"Publish stage {stage_id} to {planned.upstream}?", default=False
        ):
            raise _output.fail("not confirmed (pass --yes in scripts)")
        outcome = await desk.publish(OPERATOR, stage_id)
        _report(outcome)
        return outcome

    try:
        outcome = with_kernel(run)
    except StageError as exc:
        raise _output.fail(_problem(exc)) from None
    if outcome.conflicts:
        raise typer.Exit(1)


def _report(outcome: PublishOutcome) -> None:
    if outcome.conflicts:
        _output.error(
            f"stage {outcome.stage} conflicts with {outcome.upstream}:"
            f" {len(outcome.conflicts)} conflict(s)"
        )
        table = Table("item", "field", "in the stage", "upstream")
        for conflict in outcome.conflicts:
            table.add_row(
                *(str(conflict.get(k, "")) for k in ("item", "field", "stage", "upstream"))
            )
        _output.show(table)
        return
    if outcome.changes:
        _output.show(_changes_table(outcome.changes))
    if outcome.dry_run:
        _output.say(
            f"Would publish {len(outcome.changes)} change(s) of stage {outcome.stage}"
            f" to {outcome.upstream}."
        )
    else:
        _output.result(
            f"Published {len(outcome.changes)} change(s) of stage {outcome.stage}"
            f" to {outcome.upstream}."
        )
