"""Export a site's configuration to a folder, and import a folder into a site (DESIGN §12).

**Export** writes each kind's objects (:mod:`trovato.config.kinds`) as one YAML file each
under the kind's folder (:mod:`trovato.config.files`): an unchanged site exports the same
bytes, and files of objects that are gone are removed from those folders only.

**Import** reads and parses every file first (bounded, plain YAML), refusing the folder at
the first bad file. Then, in ONE database transaction, it compares each file with the
site's object of the same name and creates or updates what differs through the kind's
service, in the kinds' order, then deletes the objects the folder lacks in the reverse order
(unless told to keep them). A kind whose whole folder is absent is left as it is, so a folder
may hold only some kinds (only ``gather/``, say). Every service validates as it does for the
admin screens and the API; the first refusal rolls everything back and is reported naming the
file and the field. A delete that would delete content with it (an item type's items, a
vocabulary's tags, a stage's changes) is refused unless allowed. Each change is written to the
audit log in the same transaction. A dry run does all of this and then rolls the transaction
back, so what it reports is exactly what the import would do, validated the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from trovato.config.files import (
    ConfigError,
    Loaded,
    Written,
    dump,
    read_folder,
    write_folder,
)
from trovato.config.kinds import Document, Kind, Stages, all_kinds
from trovato.config.site import Change, Site
from trovato.errors import ServiceError
from trovato.observability.audit import audit

# Told the total number of changes once they are known, then each change once it is made.
Planned = Callable[[int], None]
Done = Callable[[Change], None]


class _DryRun(Exception):
    """Raised inside the transaction to roll a dry run back."""


def _plain(document: Any) -> Any:
    """``document`` as its YAML file reads back: what a file is compared with."""
    import yaml

    return yaml.safe_load(dump(document))


async def collect_config(site: Site) -> dict[str, dict[str, str]]:
    """The site's configuration as files: each kind's folder → file stem → YAML text."""
    folders: dict[str, dict[str, str]] = {}
    for kind in all_kinds():
        documents = await kind.current(site)
        stems = kind.stems(sorted(documents))
        folders[kind.folder] = {stems[name]: dump(document)
                                for name, document in documents.items()}
    return folders


def write_config(root: Path, folders: dict[str, dict[str, str]]) -> list[Written]:
    """Write ``folders`` (:func:`collect_config`) under ``root`` (module docstring); what
    was written per folder."""
    if root.is_symlink() or (root.exists() and not root.is_dir()):
        raise ConfigError(str(root), "must be a folder (not a link or a file)")
    try:
        root.mkdir(parents=True, exist_ok=True)
        return [write_folder(root, folder, files) for folder, files in folders.items()]
    except OSError as exc:  # no room, no right, a file where a folder goes: said, not raised
        raise ConfigError(str(exc.filename or root),
                          f"cannot be written: {exc.strerror or exc}") from None


@dataclass(frozen=True, slots=True)
class Folder:
    """A configuration folder read and parsed (:func:`read_config`): the kinds that read it
    and, for each kind whose folder it has, its files by the name of the object each holds
    (a kind whose folder is absent is left as the site has it)."""

    kinds: list[Kind]
    files: dict[str, dict[str, Loaded]]


def read_config(root: Path) -> Folder:
    """Every kind's files under ``root``; refused (naming the file) at the first unreadable
    file or a name given twice."""
    kinds = all_kinds()
    if root.is_symlink() or not root.is_dir():
        raise ConfigError(str(root), "must be an existing folder (not a link)")
    found: dict[str, dict[str, Loaded]] = {}
    for kind in kinds:
        read = read_folder(root, kind.folder)
        if read is None:
            continue
        named: dict[str, Loaded] = {}
        for loaded in read:
            stem = loaded.file.rsplit("/", 1)[-1].removesuffix(".yaml")
            name = kind.name_of(loaded.file, stem, loaded.document)
            if name in named:
                raise ConfigError(loaded.file, f"holds {name!r}, as {named[name].file} does")
            named[name] = loaded
        found[kind.folder] = named
    return Folder(kinds, found)


@dataclass(frozen=True, slots=True)
class _Step:
    change: Change
    kind: Kind
    document: Document | None  # the file's (None for a delete)
    old: Document | None  # the site's (None for a create)


def _depth(name: str, documents: Mapping[str, Mapping[str, Any]]) -> int:
    """How many of ``documents`` (stages) ``name`` builds on, itself included."""
    seen = 0
    while name in documents and seen < 64:
        name = str(documents[name].get("upstream", ""))
        seen += 1
    return seen


def _order(kind: Kind, names: list[str], documents: Mapping[str, Mapping[str, Any]], *,
           removing: bool) -> list[str]:
    """The order to write or delete ``names`` of ``kind`` in: a stage after its upstream
    (deleted before it), anything else by name."""
    if not isinstance(kind, Stages):
        return sorted(names)
    sign = -1 if removing else 1
    return sorted(names, key=lambda n: (sign * _depth(n, documents), n))


def _plan(kinds: list[Kind], wanted: dict[str, dict[str, Loaded]],
          current: dict[str, dict[str, Document]], *, delete_absent: bool) -> list[_Step]:
    steps: list[_Step] = []
    present = [kind for kind in kinds if kind.folder in wanted]
    for kind in present:
        have = current[kind.folder]
        files = wanted[kind.folder]
        for name in _order(kind, list(files), {n: f.document for n, f in files.items()},
                           removing=False):
            loaded, old = files[name], have.get(name)
            if old is not None and _plain(old) == kind.normal(loaded.document, _plain(old)):
                continue
            change = Change("create" if old is None else "update", kind.folder, name,
                            loaded.file)
            steps.append(_Step(change, kind, loaded.document, old))
    if delete_absent:
        for kind in reversed(present):
            have = current[kind.folder]
            absent = [name for name in have
                      if name not in wanted[kind.folder] and not kind.kept(name)]
            stems = kind.stems(sorted(have))
            for name in _order(kind, absent, have, removing=True):
                steps.append(_Step(Change("delete", kind.folder, name,
                                          f"{kind.folder}/{stems[name]}.yaml"),
                                   kind, None, have[name]))
    return steps


async def _apply(site: Site, step: _Step, *, delete_content: bool) -> Change:
    """Make ``step``'s change; the change as made (with the kind's note)."""
    change = step.change
    try:
        if step.document is None:
            assert step.old is not None
            await step.kind.remove(site, change.name, step.old, change.file,
                                   content=delete_content)
        else:
            await step.kind.write(site, change.name, step.document, step.old, change.file)
    except ConfigError:
        raise
    except ServiceError as exc:
        raise ConfigError(change.file, exc.message or exc.detail,
                          errors=exc.problem_errors()) from None
    async with site.db.connection() as conn:
        await audit(conn, "config", "Configuration import: %(action)s %(folder)s “%(name)s”.",
                    {"action": change.action, "folder": change.folder, "name": change.name,
                     "file": change.file}, user_id=None)
    note = step.kind.note(change.name)
    return replace(change, note=note) if note else change


async def import_config(
    site: Site, folder: Folder, *, dry_run: bool = False, delete_absent: bool = True,
    delete_content: bool = False, planned: Planned | None = None, done: Done | None = None,
    announce: Callable[[], Awaitable[None]] | None = None,
) -> list[Change]:
    """Make the site's configuration that of ``folder`` (module docstring); the changes
    made (or, with ``dry_run``, that would be made). ``announce`` runs after a commit, to
    tell the other processes of the site."""
    kinds, wanted = folder.kinds, folder.files
    changes: list[Change] = []
    try:
        async with site.db.transaction() as conn, site.db.joined(conn):
            current = {kind.folder: await kind.current(site) for kind in kinds}
            steps = _plan(kinds, wanted, current, delete_absent=delete_absent)
            if planned is not None:
                planned(len(steps))
            for step in steps:
                change = await _apply(site, step, delete_content=delete_content)
                changes.append(change)
                if done is not None:
                    done(change)
            for kind in kinds:
                try:
                    await kind.finish(site, dry_run=dry_run)
                except ServiceError as exc:
                    if isinstance(exc, ConfigError):
                        raise
                    raise ConfigError(kind.folder, exc.message,
                                      errors=exc.problem_errors()) from None
            if dry_run:
                raise _DryRun
    except _DryRun:
        return changes
    if changes and announce is not None:
        await announce()
    return changes
