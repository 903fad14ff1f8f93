"""``trovato files styles export|import|flush``: the image styles as configuration, from the
command line (through the same styles service as the admin screen).

``export`` writes every style (name → label and effects) as YAML; ``import`` makes the site's
styles exactly those of a file, all checked before any is kept, flushing the derivatives of
each style that changed; ``flush`` deletes a style's derivatives so they are made again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
import yaml

from trovato.cli import _output
from trovato.cli._runtime import with_kernel
from trovato.errors import ServiceError
from trovato.kernel.services import Kernel

app = typer.Typer(help="Managed files: image styles.", no_args_is_help=True)
styles_app = typer.Typer(help="Image styles: export, import, flush.", no_args_is_help=True)
app.add_typer(styles_app, name="styles")


def _problem(exc: ServiceError) -> str:
    fields = "; ".join(f"{name}: {message}" for name, message in exc.errors.items())
    return f"{exc.message} ({fields})" if fields else exc.message


@styles_app.command()
def export(
    output: Path | None = typer.Option(None, "--output", "-o", help="A file (default: stdout)."),
) -> None:
    """Export the image styles as YAML."""

    async def styles(kernel: Kernel) -> dict[str, Any]:
        return await kernel.files.styles.export()

    text = yaml.safe_dump(with_kernel(styles), sort_keys=True, allow_unicode=True)
    if output is None:
        _output.result(text.rstrip("\n"))
    else:
        output.write_text(text, encoding="utf-8")
        _output.result(f"Exported the image styles to {output}.")


@styles_app.command("import")
def import_(path: Path = typer.Argument(..., exists=True, dir_okay=False,
                                        help="A YAML file of styles (as export writes).")) -> None:
    """Replace the image styles with those of a file (all or nothing)."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise _output.fail(f"{path} is not YAML: {exc}") from None

    async def replace(kernel: Kernel) -> list[str]:
        return await kernel.files.styles.replace(document)

    try:
        names = with_kernel(replace)
    except ServiceError as exc:
        raise _output.fail(f"{path}: {_problem(exc)}") from None
    _output.result(f"Imported {len(names)} image styles: {', '.join(names)}.")


@styles_app.command()
def flush(name: str = typer.Argument(..., help="The style's machine name.")) -> None:
    """Delete a style's derivatives; each is made again on its next view."""

    async def run(kernel: Kernel) -> None:
        await kernel.files.styles.require(name)
        await kernel.files.styles.flush(name)

    try:
        with_kernel(run)
    except ServiceError as exc:
        raise _output.fail(_problem(exc)) from None
    _output.result(f"Flushed the image style {name}.")
