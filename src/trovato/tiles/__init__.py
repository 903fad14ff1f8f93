"""Tiles (DESIGN §7, Drupal's blocks): boxes placed into a page's slots — a Gather listing's
tile display or a plugin's tile — with per-path, per-role and per-stage visibility
(:mod:`~trovato.tiles.model`), stored, cached and composed into each page by
:mod:`~trovato.tiles.service`.
"""

from trovato.tiles.model import ADMINISTER_TILES, Placement, TileError, Visibility
from trovato.tiles.service import PageTiles, ShownTile, Tiles

__all__ = ["ADMINISTER_TILES", "PageTiles", "Placement", "ShownTile", "TileError", "Tiles",
           "Visibility"]
