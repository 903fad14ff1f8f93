"""From a plugin folder to a loaded component whose taps the kernel knows.

A source folder is built (:mod:`~trovato.plugins.build`, cached by source hash); an unpacked
artifact's component is checked against its manifest's checksum first, so a component changed
after install no longer loads. Either way the component must implement only catalogue taps,
and to be installed or enabled none that is not available yet.
"""

from __future__ import annotations

from pathlib import Path

from trovato.plugins import artifact as artifacts
from trovato.plugins.build import build_plugin
from trovato.plugins.catalogue import CATALOGUE, unavailable
from trovato.plugins.errors import PluginLoadError
from trovato.plugins.info import PluginInfo
from trovato.plugins.runtime import LoadedPlugin, PluginRuntime


def load_plugin(runtime: PluginRuntime, info: PluginInfo, build_cache_dir: Path) -> LoadedPlugin:
    """Build (cached) and load one plugin; checks its taps against the catalogue."""
    if info.component is not None:
        try:
            manifest = artifacts.read_manifest(info.path)
            if manifest is not None and manifest.sha256[artifacts.COMPONENT] != \
                    artifacts.sha256_file(info.component):
                raise PluginLoadError(f"plugin {info.name!r}: {info.component} does not "
                                      f"match its manifest's checksum (modified after "
                                      f"install?)")
        except (artifacts.ArtifactError, OSError) as exc:
            raise PluginLoadError(f"plugin {info.name!r}: {exc}") from None
        loaded = runtime.load(info.name, info.component, info.limits)
    else:
        built = build_plugin(info.path, cache_dir=build_cache_dir)
        loaded = runtime.load(info.name, built.artifact, info.limits)
    return check_taps(info.name, loaded)


def check_taps(name: str, loaded: LoadedPlugin) -> LoadedPlugin:
    """Refuse a plugin implementing a tap the catalogue does not know."""
    unknown = sorted(loaded.taps - CATALOGUE.keys())
    if unknown:
        raise PluginLoadError(f"plugin {name!r} implements unknown tap(s): "
                              f"{', '.join(unknown)}")
    return loaded


def check_available(name: str, loaded: LoadedPlugin) -> None:
    """Refuse a plugin implementing a tap nothing fires yet (catalogue.NOT_YET_AVAILABLE)."""
    problem = unavailable(loaded.taps)
    if problem is not None:
        raise PluginLoadError(f"plugin {name!r} {problem}")
