"""Where the test suite keeps built plugin components, shared by every test that builds one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def plugin_cache_dir() -> Path:
    """``TROVATO_TEST_PLUGIN_CACHE``, else a folder in the temp dir (reused across runs, since
    building a component takes seconds and builds are cached by source hash)."""
    path = Path(os.environ.get("TROVATO_TEST_PLUGIN_CACHE")
                or Path(tempfile.gettempdir()) / "trovato-test-plugins")
    path.mkdir(parents=True, exist_ok=True)
    return path
