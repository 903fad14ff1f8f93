"""The distributable plugin artifact: ``<name>-<version>.trovato``.

A built component alone is not installable: ``plugin.toml`` carries the weights, tables,
capabilities and limits the kernel needs. ``trovato plugin build`` therefore also writes one
zip archive holding exactly three members::

    manifest.json   {"format": "trovato-plugin", "format_version": 1, "name", "version",
                     "contract", "sha256": {"plugin.toml": …, "plugin.wasm": …}, …}
    plugin.toml     the info file, byte for byte
    plugin.wasm     the component

The archive is deterministic (sorted members, fixed timestamps), so the same build gives the
same bytes. :func:`extract_artifact` refuses anything else: another member, a path that leaves
the folder, a link, a duplicate, an encrypted or oversized member, a member that inflates past
its limit while being read, a damaged archive (CRC), or a member whose SHA-256 differs from
the manifest. The checksums detect corruption and careless edits; they are not a signature
(the sandbox, not the artifact, is the security boundary).
"""

from __future__ import annotations

import hashlib
import json
import re
import stat
import tomllib
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from trovato.plugins.contract import CONTRACT_VERSION, PACKAGE

SUFFIX = ".trovato"
FORMAT = "trovato-plugin"
FORMAT_VERSION = 1
CONTRACT = f"{PACKAGE}@{CONTRACT_VERSION}"
MANIFEST = "manifest.json"
INFO = "plugin.toml"
COMPONENT = "plugin.wasm"
MEMBERS = (MANIFEST, INFO, COMPONENT)
# Python components are ~18 MB; Rust/C ones far smaller. Generous, but bounded.
MAX_ARCHIVE_BYTES = 192 * 1024 * 1024
MAX_MEMBER_BYTES = {MANIFEST: 64 * 1024, INFO: 256 * 1024, COMPONENT: 160 * 1024 * 1024}
_EPOCH = (1980, 1, 1, 0, 0, 0)
_NAME = re.compile(r"^[a-z][a-z0-9_]*\Z")
_HEX = re.compile(r"^[0-9a-f]{64}\Z")
_CHUNK = 1024 * 1024


class ArtifactError(ValueError):
    """The artifact is not installable; the message says why and names the file."""


@dataclass(frozen=True, slots=True)
class Manifest:
    name: str
    version: str
    contract: str
    sha256: dict[str, str]
    raw: dict[str, Any]


def artifact_name(name: str, version: str) -> str:
    return f"{name}-{version}{SUFFIX}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_artifact(folder: str | Path, component: str | Path, out_dir: str | Path, *,
                   build_key: str = "", sdk: str = "") -> Path:
    """Write ``<out_dir>/<name>-<version>.trovato`` from a plugin folder and its built
    component; returns the path. The folder's ``plugin.toml`` must already be valid."""
    info_bytes = (Path(folder) / INFO).read_bytes()
    plugin = tomllib.loads(info_bytes.decode())["plugin"]
    name, version = str(plugin["name"]), str(plugin["version"])
    wasm = Path(component)
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "name": name, "version": version,
        "contract": CONTRACT, "sdk": sdk, "build_key": build_key,
        "sha256": {INFO: _sha256(info_bytes), COMPONENT: sha256_file(wasm)},
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    target = out / artifact_name(name, version)
    partial = target.with_name(target.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for member, data in ((MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode()),
                             (INFO, info_bytes)):
            archive.writestr(_entry(member), data)
        with archive.open(_entry(COMPONENT), "w") as dest, wasm.open("rb") as src:
            while chunk := src.read(_CHUNK):
                dest.write(chunk)
    partial.replace(target)
    return target


def _entry(member: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(member, date_time=_EPOCH)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = (stat.S_IFREG | 0o644) << 16
    return entry


def _check_member(path: Path, entry: zipfile.ZipInfo, seen: set[str]) -> None:
    name = entry.filename
    pure = PurePosixPath(name.replace("\\", "/"))
    if (pure.is_absolute() or ".." in pure.parts or "\\" in name or ":" in name
            or len(pure.parts) != 1):
        raise ArtifactError(f"{path}: refusing member {name!r}: its path leaves the plugin "
                            f"folder (an artifact holds only {', '.join(MEMBERS)})")
    if name not in MEMBERS:
        raise ArtifactError(f"{path}: unexpected member {name!r} (an artifact holds exactly "
                            f"{', '.join(MEMBERS)})")
    if name in seen:
        raise ArtifactError(f"{path}: member {name!r} appears twice")
    seen.add(name)
    mode = entry.external_attr >> 16
    # Zip writers differ: some leave the file type bits out (0), which means a regular file.
    if entry.is_dir() or stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        raise ArtifactError(f"{path}: member {name!r} is not a regular file (links and "
                            f"folders are refused)")
    if entry.flag_bits & 0x1:
        raise ArtifactError(f"{path}: member {name!r} is encrypted")
    if entry.file_size > MAX_MEMBER_BYTES[name]:
        raise ArtifactError(f"{path}: member {name!r} is {entry.file_size} bytes; the limit "
                            f"is {MAX_MEMBER_BYTES[name]}")


def _copy_bounded(path: Path, name: str, src: IO[bytes], dest: IO[bytes] | None) -> tuple[
        str, bytes]:
    """Stream one member, hashing it and stopping at its limit (sizes in headers can lie)."""
    limit = MAX_MEMBER_BYTES[name]
    digest = hashlib.sha256()
    kept = bytearray()
    total = 0
    while chunk := src.read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise ArtifactError(f"{path}: member {name!r} inflates past its limit of {limit} "
                                f"bytes")
        digest.update(chunk)
        if dest is None:
            kept += chunk
        else:
            dest.write(chunk)
    return digest.hexdigest(), bytes(kept)


def _manifest(path: Path, data: bytes) -> Manifest:
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise ArtifactError(f"{path}: {MANIFEST} is not valid JSON: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ArtifactError(f"{path}: {MANIFEST}: format must be {FORMAT!r}")
    if raw.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(f"{path}: {MANIFEST}: format_version {raw.get('format_version')!r}"
                            f" is not supported (this kernel reads {FORMAT_VERSION})")
    name, version = raw.get("name"), raw.get("version")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ArtifactError(f"{path}: {MANIFEST}: name {name!r} is not a plugin name")
    if not isinstance(version, str) or not version:
        raise ArtifactError(f"{path}: {MANIFEST}: version is missing")
    contract = raw.get("contract", CONTRACT)
    sums = raw.get("sha256")
    if not isinstance(sums, dict) or set(sums) != {INFO, COMPONENT} or not all(
            isinstance(v, str) and _HEX.match(v) for v in sums.values()):
        raise ArtifactError(f"{path}: {MANIFEST}: sha256 must give the SHA-256 of {INFO} and "
                            f"{COMPONENT}")
    return Manifest(name, version, str(contract), dict(sums), raw)


def extract_artifact(path: str | Path, dest: str | Path) -> Manifest:
    """Check ``path`` and write its ``plugin.toml``, ``plugin.wasm`` and ``manifest.json`` into
    the (empty) folder ``dest``. Raises :class:`ArtifactError`; the caller removes ``dest``."""
    path = Path(path)
    dest = Path(dest)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read: {exc.strerror}") from None
    if size > MAX_ARCHIVE_BYTES:
        raise ArtifactError(f"{path}: {size} bytes; an artifact may be at most "
                            f"{MAX_ARCHIVE_BYTES}")
    if not zipfile.is_zipfile(path):
        raise ArtifactError(f"{path}: not a Trovato plugin artifact (a {SUFFIX} zip archive "
                            f"written by `trovato plugin build`)")
    try:
        with zipfile.ZipFile(path) as archive:
            seen: set[str] = set()
            entries = archive.infolist()
            for entry in entries:
                _check_member(path, entry, seen)
            missing = [m for m in MEMBERS if m not in seen]
            if missing:
                raise ArtifactError(f"{path}: missing {', '.join(missing)}")
            with archive.open(MANIFEST) as src:
                _, manifest_bytes = _copy_bounded(path, MANIFEST, src, None)
            manifest = _manifest(path, manifest_bytes)
            dest.mkdir(parents=True, exist_ok=True)
            for member in (INFO, COMPONENT):
                with archive.open(member) as src, (dest / member).open("wb") as out:
                    got, _ = _copy_bounded(path, member, src, out)
                if got != manifest.sha256[member]:
                    raise ArtifactError(f"{path}: checksum mismatch for {member}: the artifact "
                                        f"is corrupted or was modified after the build")
            (dest / MANIFEST).write_bytes(manifest_bytes)
    # zipfile raises NotImplementedError for a compression method it cannot read.
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError,
            NotImplementedError) as exc:
        raise ArtifactError(f"{path}: the archive is damaged: {exc}") from None
    return manifest


def read_manifest(folder: str | Path) -> Manifest | None:
    """The manifest of an unpacked artifact, or None for a source folder."""
    file = Path(folder) / MANIFEST
    if not file.is_file():
        return None
    return _manifest(file, file.read_bytes())
