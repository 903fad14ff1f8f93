"""A plugin's [limits]: every key checked against its range."""

from __future__ import annotations

import pytest

from trovato.plugins.errors import PluginLoadError
from trovato.plugins.limits import Limits


def test_limits_from_info_validates() -> None:
    assert Limits.from_info({"fuel": 5_000_000}).fuel == 5_000_000
    with pytest.raises(PluginLoadError, match=r"limits\.memory_mb"):
        Limits.from_info({"memory_mb": 1})
    with pytest.raises(PluginLoadError, match=r"limits\.cpu: unknown"):
        Limits.from_info({"cpu": 1})
