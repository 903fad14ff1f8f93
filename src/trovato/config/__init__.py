"""Configuration management (DESIGN §12): a site's configuration exported to a folder of YAML
files, one per object, and imported from one in a single transaction, every object going
through its own service (``trovato config export|import``)."""

from trovato.config.files import MAX_FILE, ConfigError
from trovato.config.site import Change, Site
from trovato.config.sync import (
    Folder,
    collect_config,
    import_config,
    read_config,
    write_config,
)

__all__ = ["MAX_FILE", "Change", "ConfigError", "Folder", "Site",
           "collect_config", "import_config", "read_config", "write_config"]
