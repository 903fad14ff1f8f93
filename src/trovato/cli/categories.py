"""``trovato categories import|export|list|tree``: vocabularies from the command line.

The command line is the site's operator (:data:`~trovato.cli.stage.OPERATOR`), working through
the same categories service as the pages and the API. An import is all or nothing: a bad row
stops it with an error naming the row's line, and nothing is kept. Names are user text,
printed literally (:mod:`trovato.cli._output`).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from trovato.categories.files import read_file, write_csv, write_yaml
from trovato.categories.model import CategoryError, TreeNode, Vocabulary
from trovato.categories.tags import ImportResult
from trovato.cli import _output
from trovato.cli._runtime import with_kernel
from trovato.cli.stage import OPERATOR
from trovato.kernel.services import Kernel

app = typer.Typer(help="Categories: vocabularies of tags.", no_args_is_help=True)


def _problem(exc: CategoryError) -> str:
    fields = "; ".join(f"{name}: {message}" for name, message in exc.errors.items()
                       if name not in exc.message)
    return f"{exc.message} ({fields})" if fields else exc.message


@app.command("import")
def import_(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True,
                                help="A .csv file (columns name, parents, description, weight)"
                                     " or a YAML file (nested tags)."),
    vocabulary: str = typer.Option("", "--vocabulary", help="The vocabulary to import into"
                                   " (default: the one the YAML file names); created if"
                                   " missing."),
) -> None:
    """Import tags into a vocabulary, all or nothing."""
    try:
        parsed = read_file(file.name, file.read_text(encoding="utf-8"))
    except CategoryError as exc:
        raise _output.fail(f"{file}: {_problem(exc)}") from None
    except UnicodeDecodeError:
        raise _output.fail(f"{file}: not UTF-8 text") from None
    target = vocabulary or parsed.vocabulary
    if not target:
        raise _output.fail(f"{file}: name the vocabulary with --vocabulary")

    async def run(kernel: Kernel) -> ImportResult:
        with _output.progress(f"Importing into {target}", len(parsed.rows)) as advance:
            return await kernel.categories.import_tags(
                OPERATOR, target, parsed.rows, label=parsed.label, progress=advance)

    try:
        result = with_kernel(run)
    except CategoryError as exc:
        raise _output.fail(f"{file}: {_problem(exc)}") from None
    _output.result(f"Imported into {result.vocabulary.id}: {result.created} tag(s) created,"
                   f" {result.updated} updated.")


@app.command()
def export(
    vocabulary: str = typer.Argument(..., metavar="VOCABULARY", help="Its machine name."),
    csv: bool = typer.Option(False, "--csv", help="CSV instead of YAML."),
) -> None:
    """Print a vocabulary as YAML (or CSV) that `import` reads back."""

    async def run(kernel: Kernel) -> str:
        service = kernel.categories
        if csv:
            return write_csv(await service.tags(OPERATOR, vocabulary))
        found = await service.vocabulary(OPERATOR, vocabulary)
        return write_yaml(found, await service.tree(OPERATOR, vocabulary))

    try:
        text = with_kernel(run)
    except CategoryError as exc:
        raise _output.fail(_problem(exc)) from None
    _output.result(text.rstrip("\n"))


@app.command("list")
def list_() -> None:
    """List the vocabularies."""

    async def run(kernel: Kernel) -> list[tuple[Vocabulary, int]]:
        found = await kernel.categories.vocabularies(OPERATOR)
        counts = {row["machine_name"]: row["n"] for row in await kernel.db.fetch(
            "SELECT v.machine_name, count(t.id) AS n FROM category_vocabulary v"
            " LEFT JOIN category_tag t ON t.vocabulary_id = v.id GROUP BY v.machine_name")}
        return [(v, counts.get(v.id, 0)) for v in found]

    table = Table("id", "label", "hierarchy", "tags")
    for found, count in with_kernel(run):
        table.add_row(found.id, found.label, found.hierarchy, str(count))
    _output.show(table)


@app.command()
def tree(vocabulary: str = typer.Argument(..., metavar="VOCABULARY",
                                          help="Its machine name.")) -> None:
    """Show a vocabulary's tags as a tree.

    A tag with several parents is shown under each; `*` marks a repeat, whose children are
    shown at its first place."""

    async def run(kernel: Kernel) -> tuple[Vocabulary, list[TreeNode]]:
        service = kernel.categories
        return (await service.vocabulary(OPERATOR, vocabulary),
                await service.tree(OPERATOR, vocabulary))

    try:
        found, nodes = with_kernel(run)
    except CategoryError as exc:
        raise _output.fail(_problem(exc)) from None

    def branch(node: TreeNode) -> _output.Branch:
        label = node.tag.name + (" *" if node.repeated else "")
        return label, [branch(child) for child in node.children]

    _output.show_tree(f"{found.label} ({found.id})", [branch(node) for node in nodes])
