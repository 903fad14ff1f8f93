"""The configuration folder on disk: one YAML file per object, under the folders
``trovato config`` owns, written byte-identically for an unchanged site and read back bounded.

**Writing.** A document is dumped with its keys sorted, block style, no line wrapping, so the
same configuration always gives the same bytes and a change shows as a small diff. A file is
rewritten only when its bytes change. Files of objects that no longer exist are removed, only
``*.yaml`` files and only inside the owned folders: nothing else in the folder is touched. A
link or a folder where a file goes is refused, never written through.

**Reading.** Only regular files named like an exported one (``[a-z0-9][a-z0-9_.-]*.yaml``) in
an owned folder are read; a symbolic link, a folder or an oddly named file there is refused
rather than followed or skipped, so nothing outside the folder is read and no file is silently
ignored. Each file's size is capped before the parser sees it, and only plain YAML
(``safe_load``: no tags building objects) is parsed; the document must be one mapping.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from trovato.errors import ServiceError

MAX_FILE: Final = 256 * 1024  # bytes of one object's YAML
MAX_FILES: Final = 10_000  # files in one owned folder
# Values in one document, aliases counted each time they are used: YAML's aliases can make a
# small file stand for a huge document ("billion laughs"), which the counting stops early.
MAX_VALUES: Final = 50_000
# Levels of nesting in one document: the YAML parser, the comparison with the site's object
# and the services' JSON all recurse once per level, so a deep file would exhaust the stack.
MAX_DEPTH: Final = 32
SUFFIX: Final = ".yaml"
_STEM: Final = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,127}\Z")


class ConfigError(ServiceError):
    """A refused export or import: the ``file`` it is about (relative to the folder, or
    empty) and the problem, with per-field ``errors`` when a service gave them."""

    def __init__(self, file: str, message: str, *,
                 errors: Mapping[str, str] | None = None) -> None:
        super().__init__(422, message, errors=dict(errors or {}))
        self.file = file

    def __str__(self) -> str:
        # A service's message often quotes its one error already, with or without the
        # field's name: not twice.
        fields = "; ".join(f"{key}: {problem}" for key, problem in self.errors.items()
                           if problem not in self.message)
        where = f"{self.file}: " if self.file else ""
        return f"{where}{self.message}" + (f" ({fields})" if fields else "")


@dataclass(frozen=True, slots=True)
class Loaded:
    """One file read from the folder: its name relative to the folder and its document."""

    file: str
    document: dict[str, Any]


def file_stem(name: str) -> str:
    """The file name (without ``.yaml``) an object called ``name`` is exported under:
    lowercase letters, digits, ``_``, ``.`` and ``-``; anything else becomes ``_``."""
    stem = re.sub(r"[^a-z0-9_.-]+", "_", name.lower()).strip("_.-")[:120]
    return stem if _STEM.match(stem) else "unnamed"


def unique_stems(names: Iterable[str]) -> dict[str, str]:
    """Each of ``names`` (in their given order) → a file stem no other one has: two names
    that read alike get ``_2``, ``_3`` after the first."""
    taken: set[str] = set()
    stems: dict[str, str] = {}
    for name in names:
        base = stem = file_stem(name)
        count = 1
        while stem in taken:
            count += 1
            stem = f"{base}_{count}"
        taken.add(stem)
        stems[name] = stem
    return stems


def dump(document: Mapping[str, Any]) -> str:
    """``document`` as YAML: keys sorted, block style, never wrapped (module docstring)."""
    import yaml  # only the config commands need it, not serving pages

    text: str = yaml.safe_dump(dict(document), sort_keys=True, allow_unicode=True,
                               default_flow_style=False, width=2**20)
    return text


def parse(file: str, data: bytes) -> dict[str, Any]:
    """The one mapping in ``data`` (a file's bytes); :class:`ConfigError` naming ``file``
    when it is too long, not UTF-8, not plain YAML or not a mapping."""
    import yaml

    if len(data) > MAX_FILE:
        raise ConfigError(file, f"is longer than {MAX_FILE} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(file, "is not UTF-8 text") from None
    try:
        document = yaml.safe_load(text)
    except RecursionError:
        raise ConfigError(file, f"is nested more than {MAX_DEPTH} levels deep") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" (line {where.line + 1}, column {where.column + 1})" if where is not None else ""
        problem = getattr(exc, "problem", None) or "not valid"
        raise ConfigError(file, f"is not valid YAML{at}: {problem}") from None
    if not isinstance(document, dict):
        raise ConfigError(file, "must hold one mapping")
    _check_plain(file, document)
    return document


def _check_plain(file: str, document: dict[str, Any]) -> None:
    """Refuse what JSON cannot hold (dates, binary, non-string keys) and documents of more
    than :data:`MAX_VALUES` values or :data:`MAX_DEPTH` levels: the services take
    JSON-shaped documents."""
    pending: list[tuple[str, int, Any]] = [("", 0, document)]
    seen = 0
    while pending:
        where, depth, value = pending.pop()
        seen += 1
        if seen > MAX_VALUES:
            raise ConfigError(file, f"holds more than {MAX_VALUES} values")
        if depth > MAX_DEPTH:
            raise ConfigError(file, f"is nested more than {MAX_DEPTH} levels deep",
                              errors={where: "nested too deeply"})
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ConfigError(file, f"has a key that is not a string at {where or '/'}")
                pending.append((f"{where}.{key}" if where else key, depth + 1, item))
        elif isinstance(value, list):
            pending.extend((f"{where}.{n}", depth + 1, item) for n, item in enumerate(value))
        elif value is not None and not isinstance(value, str | int | float | bool):
            raise ConfigError(file, f"{where}: a {type(value).__name__} is not allowed"
                              " (quote it to make it a string)", errors={where: "not JSON"})


def _regular_folder(path: Path, shown: str) -> bool:
    """Whether ``path`` is a real folder (False when absent); a link or a file there is
    refused."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return False
    if not stat.S_ISDIR(mode):
        raise ConfigError(shown, "must be a folder (not a link or a file)")
    return True


def read_folder(root: Path, folder: str) -> list[Loaded] | None:
    """Every object file of ``root/folder`` sorted by name (None when the folder is absent);
    :class:`ConfigError` for the first file that is not one (module docstring)."""
    path = root / folder
    if not _regular_folder(path, folder):
        return None
    entries = sorted(path.iterdir(), key=lambda p: p.name)
    if len(entries) > MAX_FILES:
        raise ConfigError(folder, f"holds more than {MAX_FILES} entries")
    loaded: list[Loaded] = []
    for entry in entries:
        shown = f"{folder}/{entry.name}"
        if not entry.name.endswith(SUFFIX) or not _STEM.match(entry.name[:-len(SUFFIX)]):
            raise ConfigError(shown, "is not a configuration file: names are"
                              " [a-z0-9][a-z0-9_.-]*.yaml")
        loaded.append(Loaded(shown, parse(shown, _read_regular(entry, shown))))
    return loaded


_NOT_REGULAR: Final = "must be a regular file (not a link or a folder); remove it first"


def _read_regular(path: Path, shown: str, *, missing: bytes | None = None) -> bytes:
    """The first bytes of the regular file ``path``, up to one past :data:`MAX_FILE`
    (``missing`` when it is absent and that is given): the check and the read are one open
    that follows no link (and waits on no pipe), so nothing put in place of the file
    meanwhile is read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        if missing is None:
            raise ConfigError(shown, _NOT_REGULAR) from None
        return missing
    except OSError:
        raise ConfigError(shown, _NOT_REGULAR) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise ConfigError(shown, _NOT_REGULAR)
    with os.fdopen(fd, "rb") as handle:
        return handle.read(MAX_FILE + 1)  # the cap holds even if the file grows meanwhile


def _write_regular(path: Path, shown: str, data: bytes) -> None:
    """Make the regular file ``path`` hold ``data``, through one open that follows no link."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR):
            raise ConfigError(shown, _NOT_REGULAR) from None
        raise
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


@dataclass(frozen=True, slots=True)
class Written:
    """What writing a folder did: files written (new or changed), unchanged, removed."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...]


def write_folder(root: Path, folder: str, files: Mapping[str, str]) -> Written:
    """Make ``root/folder`` hold exactly ``files`` (stem → YAML text) among its ``*.yaml``
    files: write what is new or changed, remove the other ``*.yaml`` files."""
    path = root / folder
    if not _regular_folder(path, folder):
        path.mkdir(parents=True)
    written: list[str] = []
    unchanged: list[str] = []
    for stem, text in sorted(files.items()):
        if not _STEM.match(stem):  # exported names come from file_stem; never a path
            raise ConfigError(f"{folder}/{stem}", "is not a safe file name")
        target = path / f"{stem}{SUFFIX}"
        shown = f"{folder}/{target.name}"
        data = text.encode("utf-8")
        # An absent file reads as b"", which no YAML document dumps to.
        if _read_regular(target, shown, missing=b"") == data:
            unchanged.append(shown)
            continue
        _write_regular(target, shown, data)
        written.append(shown)
    wanted = {f"{stem}{SUFFIX}" for stem in files}
    removed: list[str] = []
    for entry in sorted(path.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(SUFFIX) and entry.name not in wanted \
                and (entry.is_symlink() or entry.is_file()):
            entry.unlink()
            removed.append(f"{folder}/{entry.name}")
    return Written(tuple(written), tuple(unchanged), tuple(removed))
