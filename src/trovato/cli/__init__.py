"""The ``trovato`` command line: one module per command group, assembled here."""

from __future__ import annotations

import sys

import typer

from trovato import __version__
from trovato.cli import (
    _output,
    background,
    bench,
    categories,
    config,
    content,
    db,
    demo,
    files,
    gather,
    plugin,
    search,
    serve,
    stage,
    user,
)
from trovato.db.embedded import EmbeddedPostgresError
from trovato.observability import audit
from trovato.observability.log_reader import COMMAND_LINE, QUEUE_WORKER
from trovato.plugins.errors import PluginLoadError
from trovato.settings import SettingsError

app = typer.Typer(
    name="trovato",
    help="Trovato: a content management system. Run `trovato serve` to start the site.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Click's plain help, for every command group (it is inherited): Rich's help reads square
    # brackets in help text as markup, shows a type next to flags that take no value, and
    # keeps the docstrings' line breaks in the command list.
    rich_markup_mode=None,
)
# The commands that serve requests: their entries are the requests' (users' or visitors').
_SERVING = frozenset({"serve"})
# The other commands' entries are the system's, by the name of the process that wrote them:
# the queue worker runs for long and does what the site queued, not what an operator typed.
_SYSTEM_LOCATIONS = {"worker": QUEUE_WORKER}
app.command("serve")(serve.serve)
app.command("bench")(bench.bench)
app.command("cron")(background.cron)
app.command("worker")(background.worker)
app.command("demo")(demo.demo)
app.add_typer(db.app, name="db")
app.add_typer(user.app, name="user")
app.add_typer(plugin.app, name="plugin")
app.add_typer(stage.app, name="stage")
app.add_typer(categories.app, name="categories")
app.add_typer(content.app, name="content")
app.add_typer(gather.app, name="gather")
app.add_typer(config.app, name="config")
app.add_typer(files.app, name="files")
app.add_typer(search.app, name="search")


def _version(value: bool) -> None:
    if value:
        _output.result(f"trovato {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Trovato: a content management system. Run `trovato serve` to start the site."""
    if ctx.invoked_subcommand not in _SERVING:
        # The command's audit entries are the system's, not an anonymous visitor's; ended
        # with the command (tests run many in one process).
        ctx.call_on_close(audit.from_system(audit_location(ctx.invoked_subcommand)))


def audit_location(command: str | None) -> str:
    """The location of the audit entries command ``command`` writes (not a serving one)."""
    return _SYSTEM_LOCATIONS.get(command or "", COMMAND_LINE)


def main() -> None:
    try:
        app()
    except (SettingsError, EmbeddedPostgresError, PluginLoadError) as exc:
        # Configuration the user must fix (a bad plugin.toml or plugin folder among them):
        # one line naming it, not a traceback.
        _output.error(str(exc))
        sys.exit(2)
