"""The on-disk cache of compiled components, so a worker maps code in instead of compiling it.

Compiled code is kept as ``.cwasm`` under a key of (wasmtime version, engine settings, wasm
sha256), the only combination serialized code is valid for, and mapped back in with
``Component.deserialize_file``. Beside each ``.cwasm`` the cache keeps what the component's
``describe()`` returned, and per component file its sha256 (by path, size, mtime and inode):
with both, loading a cached plugin needs neither an instance nor a read of the whole file.
Every file is written to a partial name and renamed, so other processes never see half of one;
a file that cannot be written only costs the next start the work again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from wasmtime import Engine, WasmtimeError
from wasmtime.component import Component

from trovato.plugins.artifact import sha256_file
from trovato.plugins.engine import WASMTIME_VERSION, EngineSettings

log = logging.getLogger("trovato.plugins")


class CompiledCache:
    """The ``.cwasm`` files (and memos) of one engine in ``folder``."""

    def __init__(self, folder: Path, engine: Engine, settings: EngineSettings) -> None:
        self.folder = folder
        self.engine = engine
        self.settings = settings

    def path(self, wasm_sha256: str) -> Path:
        """Where the compiled code of the component with this sha256 is kept."""
        key = hashlib.sha256(f"{WASMTIME_VERSION}|{self.settings.key()}|{wasm_sha256}"
                             .encode()).hexdigest()[:32]
        return self.folder / f"{key}.cwasm"

    def digest(self, wasm: Path) -> str:
        """The sha256 of ``wasm``, remembered per (path, size, mtime, inode): hashing a whole
        component costs a starting worker more than loading it."""
        stat = wasm.stat()
        stamp = [stat.st_size, stat.st_mtime_ns, stat.st_ino]
        name = hashlib.sha256(str(wasm.resolve()).encode()).hexdigest()[:32]
        memo = self.folder / "digests" / f"{name}.json"
        try:
            saved = json.loads(memo.read_text())
            if saved["stamp"] == stamp and isinstance(saved["sha256"], str):
                return str(saved["sha256"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        sha = sha256_file(wasm)
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            partial = memo.with_suffix(f".{os.getpid()}.partial")
            partial.write_text(json.dumps({"stamp": stamp, "sha256": sha}))
            os.replace(partial, memo)
        except OSError as exc:  # a read-only cache only costs the next start a hash
            log.warning("cannot remember the digest of %s: %s", wasm, exc)
        return sha

    def compile(self, wasm: Path) -> tuple[Component, str, Path, bool]:
        """The component for ``wasm``, from the ``.cwasm`` cache when possible: the
        component, its sha256, the ``.cwasm`` path and whether it came from the cache."""
        sha = self.digest(wasm)
        target = self.path(sha)
        if target.exists():
            try:
                return Component.deserialize_file(self.engine, str(target)), sha, target, True
            except WasmtimeError as exc:
                # Corrupt or foreign artifact: recompile and overwrite it.
                log.warning("discarding unusable compiled artifact %s: %s", target, exc)
        component = Component.from_file(self.engine, str(wasm))
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(component.serialize())
        os.replace(partial, target)  # atomic: other processes never see a half-written file
        # Serve from the mmapped file like every later load, so memory use is the same.
        return Component.deserialize_file(self.engine, str(target)), sha, target, False


def _description_path(compiled: Path) -> Path:
    return compiled.with_suffix(".describe.json")


def read_description(compiled: Path) -> dict[str, Any] | None:
    """What ``describe()`` returned for the component compiled to ``compiled``, if kept."""
    try:
        description = json.loads(_description_path(compiled).read_text())
    except (OSError, ValueError):
        return None
    return description if isinstance(description, dict) else None


def write_description(compiled: Path, description: dict[str, Any]) -> None:
    """Keep ``description`` beside ``compiled`` (same key, so the same component)."""
    target = _description_path(compiled)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    try:
        partial.write_text(json.dumps(description))
        os.replace(partial, target)  # atomic, like the .cwasm beside it
    except OSError as exc:  # a read-only cache only costs the next start an instance
        log.warning("cannot cache the description of %s: %s", compiled, exc)
