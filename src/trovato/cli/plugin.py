"""``trovato plugin new|build|list|install|enable|disable|uninstall|requirements``.

The lifecycle commands act on the site's database and shared store, so every running kernel
process picks the change up through pub/sub without a restart (the embedded server is attached
to when it runs).
"""

from __future__ import annotations

import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from string import Template

import typer
from rich.table import Table

from trovato.cli import _output
from trovato.cli._runtime import with_kernel
from trovato.kernel.services import Kernel
from trovato.plugins import BuildError, PluginError, PluginLoadError, build_plugin, parse_info
from trovato.plugins.artifact import SUFFIX, write_artifact
from trovato.plugins.info import PluginInfo
from trovato.plugins.namespaces import MACHINE_NAME_RULE, PLUGIN_NAME_MAX, is_machine_name
from trovato.plugins.requirements import Requirement
from trovato.settings import load_settings

app = typer.Typer(help="Plugins: scaffold, build, install and switch them on and off.",
                  no_args_is_help=True)

_SCAFFOLD = Path(__file__).resolve().parent.parent / "plugins" / "scaffold"
# The argument naming an installed plugin (enable, disable, uninstall).
NAME = typer.Argument(..., help="The plugin's machine name (see `trovato plugin list`).")


def _fail(message: str) -> typer.Exit:
    return _output.fail(message)


@app.command()
def new(
    name: str = typer.Argument(..., help="Machine name: lower case letters, digits, _."),
    directory: Path = typer.Option(Path("plugins"), "--dir", help="Where to create it."),
) -> None:
    """Scaffold a plugin: plugin.toml, plugin.py and a unit test."""
    if not is_machine_name(name) or len(name) > PLUGIN_NAME_MAX:
        raise _fail(f"plugin name {name!r} must be {MACHINE_NAME_RULE} "
                    f"(at most {PLUGIN_NAME_MAX} characters)")
    target = directory / name
    if target.exists():
        raise _fail(f"{target} already exists")
    (target / "tests").mkdir(parents=True)
    values = {"name": name, "title": name.replace("_", " ").title()}
    for template, out in (("plugin.toml.tmpl", "plugin.toml"), ("plugin.py.tmpl", "plugin.py"),
                          ("test_plugin.py.tmpl", "tests/test_plugin.py"),
                          ("conftest.py.tmpl", "tests/conftest.py")):
        text = Template((_SCAFFOLD / template).read_text()).substitute(values)
        (target / out).write_text(text)
    _output.say(f"Created {target}/ — build it with `trovato plugin build {target}`,"
                f" test it with `pytest {target}/tests`.")


@app.command()
def build(
    folder: Path = typer.Argument(..., help="The plugin folder."),
    out: Path | None = typer.Option(
        None, "--out", help="Where to write the installable artifact (default: FOLDER/dist)."),
) -> None:
    """Build a plugin folder into an installable artifact.

    The WebAssembly component is cached by source hash. Prints the
    component's path and size, then writes the installable artifact
    NAME-VERSION.trovato (a zip of manifest.json with SHA-256 sums,
    plugin.toml and plugin.wasm) that `trovato plugin install` accepts.
    """
    try:
        info = parse_info(folder)
        if info.component is not None:
            raise PluginLoadError(f"{folder} holds a built plugin ({info.component.name}), "
                                  f"not sources")
        with _output.working(f"Building {folder} with componentize-py…"):
            result = build_plugin(folder, cache_dir=load_settings().data_dir / "plugin-builds")
            artifact = write_artifact(folder, result.artifact, out or folder / "dist",
                                      build_key=result.key, sdk=_sdk_version())
    except (BuildError, PluginLoadError, ValueError, OSError) as exc:
        raise _fail(str(exc)) from None
    how = "cached" if result.cached else f"built in {result.seconds:.1f} s"
    _output.result(f"{result.artifact} ({result.size / 1e6:.1f} MB, {how})")
    _output.result(f"{artifact} ({artifact.stat().st_size / 1e6:.1f} MB, install it with "
                   f"`trovato plugin install {artifact}`)")


def _sdk_version() -> str:
    try:
        from trovato_sdk import __version__
    except ImportError:
        return ""
    return str(__version__)


@app.command("list")
def list_() -> None:
    """List every plugin in the plugin folders, with its state."""

    async def overview(kernel: Kernel) -> list[dict[str, object]]:
        return await kernel.plugins.overview()

    rows = with_kernel(overview)
    table = Table("name", "version", "status", "description")
    for row in rows:
        table.add_row(str(row["name"]), str(row["version"]), str(row["status"]),
                      str(row["description"]))
    _output.show(table)


def _approve(yes: bool) -> Callable[[PluginInfo], None]:
    def approve(info: PluginInfo) -> None:
        _confirm(info, yes)

    return approve


def _confirm(info: PluginInfo, yes: bool) -> None:
    """Show what the plugin asks for (capabilities, and the resource limits of each call);
    capabilities or limits above the defaults need the administrator's approval."""
    if info.capabilities:
        _output.say("This plugin asks for these capabilities:")
        for line in info.capability_lines():
            _output.say(f"  • {line}")
    _output.say("Resource limits of each call:")
    for line in info.limit_lines():
        _output.say(f"  • {line}")
    if yes or not info.needs_approval():
        return
    try:
        approved = typer.confirm("Approve them?", default=False)
    except typer.Abort:
        approved = False
    if not approved:
        raise _fail("not approved (pass --yes to approve in scripts)")


@app.command()
def install(
    source: str = typer.Argument(..., help=f"A built artifact (*{SUFFIX}), a plugin folder, or "
                                           "the name of a discovered plugin."),
    yes: bool = typer.Option(False, "--yes", help="Approve capabilities and raised limits."),
    enable: bool = typer.Option(True, "--enable/--no-enable", help="Enable after install."),
) -> None:
    """Install a plugin: create its tables and enable it.

    SOURCE is one of: a built artifact NAME-VERSION.trovato, written by
    `trovato plugin build` (checked: members, paths, sizes, SHA-256 sums,
    plugin.toml, the component's contract and taps; then unpacked into the
    site's plugin folder); a plugin folder (built when needed, copied there);
    or the name of a plugin in the plugin folders. The plugin's requirements
    are checked first: an error refuses the install and nothing changes.
    """
    settings = load_settings()
    folder = Path(source)
    if folder.is_file():
        if folder.suffix == ".wasm":
            raise _fail(f"{folder}: a bare component lacks its plugin.toml; install the "
                        f"{SUFFIX} artifact that `trovato plugin build` writes")

        async def run_artifact(kernel: Kernel) -> str:
            info = await kernel.plugins.install_artifact(
                folder, settings.data_dir / "plugins", enable=enable, approve=_approve(yes))
            return info.name

        try:
            name = with_kernel(run_artifact)
        except (PluginLoadError, PluginError, BuildError, ValueError) as exc:
            raise _fail(str(exc)) from None
        _output.say(f"Installed {name}{' and enabled it' if enable else ''} from {folder}.")
        return
    if folder.is_dir():
        try:
            info = parse_info(folder)
        except (PluginLoadError, ValueError) as exc:
            raise _fail(str(exc)) from None
        name = info.name
        target = settings.data_dir / "plugins" / name
        if folder.resolve() != target.resolve() and not any(
            folder.resolve().parent == p.resolve() for p in settings.plugin_paths
        ):
            # Copy it where every kernel process discovers it.
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(folder, target,
                            ignore=shutil.ignore_patterns("__pycache__", "dist"))
    else:
        name = source

    async def run(kernel: Kernel) -> None:
        _confirm(kernel.plugins.info(name), yes)
        await kernel.plugins.install(name, enable=enable)

    _lifecycle(run)
    _output.say(f"Installed {name}{' and enabled it' if enable else ''}.")


def _lifecycle(action: Callable[[Kernel], Awaitable[None]]) -> None:
    try:
        with_kernel(action)
    except (PluginLoadError, PluginError, BuildError, ValueError) as exc:
        raise _fail(str(exc)) from None


@app.command("enable")
def enable_(
    name: str = NAME,
    yes: bool = typer.Option(False, "--yes", help="Approve capabilities and raised limits."),
) -> None:
    """Enable an installed plugin.

    Every running kernel process picks the change up.
    """

    async def run(kernel: Kernel) -> None:
        _confirm(kernel.plugins.info(name), yes)
        await kernel.plugins.enable(name)

    _lifecycle(run)
    _output.say(f"Enabled {name}.")


@app.command()
def disable(name: str = NAME) -> None:
    """Disable a plugin; its data stays.

    Every running kernel process picks the change up.
    """

    async def run(kernel: Kernel) -> None:
        await kernel.plugins.disable(name)

    _lifecycle(run)
    _output.say(f"Disabled {name}.")


@app.command()
def uninstall(name: str = NAME) -> None:
    """Uninstall a disabled plugin and drop its data.

    Runs its uninstall tap, then drops its tables and settings.
    """

    async def run(kernel: Kernel) -> None:
        await kernel.plugins.uninstall(name)

    _lifecycle(run)
    _output.say(f"Uninstalled {name}.")


_STYLE = {"ok": "green", "info": "cyan", "warning": "yellow", "error": "bold red"}


@app.command()
def requirements() -> None:
    """Report each enabled plugin's requirements.

    The status report: a title, value and severity per requirement.
    Exits with 1 when any requirement is an error.
    """

    async def report(kernel: Kernel) -> list[Requirement]:
        return await kernel.plugins.requirements()

    rows = with_kernel(report)
    if not rows:
        _output.say("No enabled plugin reports requirements.")
        return
    table = Table("plugin", "title", "value", "severity", "description")
    for row in rows:
        style = _STYLE.get(row.severity, "")
        table.add_row(row.plugin, row.title, row.value, _output.styled(row.severity, style),
                      row.description)
    _output.show(table)
    errors = sum(1 for row in rows if row.severity == "error")
    if errors:
        raise _fail(f"{errors} requirement(s) not met")
