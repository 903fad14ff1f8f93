"""Everything the command line prints goes through here, as plain text Rich never parses.

Messages carry user and code text: names, paths, ``pip install 'trovato[plugins]'``, the pattern
``[a-z][a-z0-9_]*``. Rich reads square brackets as markup and ``:name:`` as emoji codes and
silently drops or replaces them, so the console here interprets neither; emphasis is given to
whole parts instead (``(text, style)`` pairs). Nothing else in ``trovato.cli`` prints (a test
reads the sources), so a new message cannot lose text by forgetting to escape it.

Messages and progress go to stderr; a command's result (an id, a path, a listing) to stdout,
so scripts can capture or filter it. Messages are never wrapped here: a long path or error
stays one line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import typer
from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text
from rich.tree import Tree

Part = str | tuple[str, str]  # plain text, or (text, Rich style)
# A tree's branch: its label and the branches under it.
Branch = tuple[str, Sequence["Branch"]]

_console = Console(stderr=True, markup=False, emoji=False, highlight=False)
_results = Console(markup=False, emoji=False, highlight=False)


def styled(text: str, style: str) -> Text:
    """A table cell (or message part) in a style, its text taken literally."""
    return Text(text, style=style)


def say(*parts: Part) -> None:
    """One message line on stderr, assembled from plain and styled parts."""
    _console.print(Text.assemble(*parts), soft_wrap=True)


def warning(message: str) -> None:
    say(("warning:", "yellow"), " ", message)


def error(message: str) -> None:
    say(("error:", "red"), " ", message)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``error: message``; returns the exit to raise (``raise fail(...)``)."""
    error(message)
    return typer.Exit(code)


def result(text: str) -> None:
    """A line of the command's result, on stdout, exactly as given."""
    typer.echo(text)


def show(renderable: RenderableType) -> None:
    """A listing (a table) as the command's result, on stdout; its string cells are literal
    text too."""
    _results.print(renderable)


def show_tree(label: str, branches: Sequence[Branch]) -> None:
    """A tree as the command's result, on stdout; its labels are literal text."""
    root = Tree(Text(label, style="bold"))

    def add(parent: Tree, branch: Branch) -> None:
        text, children = branch
        node = parent.add(Text(text))
        for child in children:
            add(node, child)

    for branch in branches:
        add(root, branch)
    _results.print(root)


@contextmanager
def progress(message: str, total: int) -> Iterator[Callable[[], None]]:
    """A progress bar of ``total`` steps; yields the function that advances it by one."""
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=_console,
                  transient=True) as bar:
        task = bar.add_task(message, total=total)
        yield lambda: bar.advance(task)


@contextmanager
def working(message: str) -> Iterator[None]:
    """A spinner with the elapsed time while a slow step runs; gone when it ends."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False),
                  TimeElapsedColumn(), console=_console, transient=True) as progress:
        progress.add_task(message, total=None)
        yield


@contextmanager
def progress_bar(message: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar of ``total`` steps; yields the function that sets how many are done."""
    with Progress(TextColumn("{task.description}", markup=False), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=_console) as progress:
        task = progress.add_task(message, total=total)

        def done(count: int) -> None:
            progress.update(task, completed=count)

        yield done
