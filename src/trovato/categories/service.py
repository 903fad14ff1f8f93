"""THE categories service (DESIGN §11): vocabularies, tags, their hierarchy, free tagging and
imports. Pages, the JSON API, the command line and the content service's free tagging all go
through :class:`Categories`.

* **Writes** run in one transaction each and lock their vocabulary's row first, so two writes
  to one vocabulary never interleave: slugs stay unique (``-2``, ``-3``… on a collision) and
  the hierarchy check sees every link. ``tag_insert``, ``tag_update`` and ``tag_delete`` fire
  inside the transaction (:mod:`trovato.categories.taps`); cache tags (``vocabulary:<id>``,
  ``tag:<id>``) are dropped after the commit. Writing needs ``administer categories``; free
  tagging (a new name typed into a tag field) needs ``create tags``.
* **Stages.** Tags carry a ``stage_id`` and every read applies the stage rule
  (:func:`trovato.stages.stage_condition`), but tags are written in live only: a write asked
  in another stage is refused (409) rather than leaking into live. Staging them as items are
  staged would need, besides a created tag's ``stage_id``: a revision table for tags (an edit
  of a live tag in a stage has nowhere to live: ``category_tag`` holds one row per tag, and
  items' overlay reads ``item_revision`` through ``stage_association``); a stage column on
  ``category_tag_hierarchy`` (a move in a stage would otherwise rewrite live's parents) and
  the loop check over the stage's overlay of it; slugs unique across a stage and its
  upstream chain; and a publish step in :mod:`trovato.content.staging` that applies tags
  before the items referring to them, with conflicts when live changed the tag meanwhile
  and ``tag_*`` taps at publish. That is a second staging engine beside the items' one; until
  tags need editorial review, live-only writes keep every stage's view of them exact (a stage
  sees live's tags, and items staged there may refer to them).
* **Hierarchy.** Parents must be tags of the same vocabulary, as many as its ``hierarchy``
  allows; a change that would close a loop is refused naming it (``a → b → c → a``), and
  chains stay within :data:`~trovato.categories.hierarchy.MAX_DEPTH`; the check reads only
  the change's neighbourhood (the new parents' ancestors, the tag's descendants). Ancestors
  and descendants are recursive CTEs, in time of the relatives they return
  (``benchmarks/bench_categories.py`` has the figures: a few milliseconds for a tag's
  ancestors or breadcrumb on a 10,000-tag DAG; the whole subtree of a root, a quarter of the
  vocabulary, is the slow case). No closure table is kept: it would cost every parent change
  a rewrite of (subtree size) times (ancestors) rows, and no read needs it yet.
"""

from __future__ import annotations

from trovato.categories.tags import Tags


class Categories(Tags):
    """Vocabularies and tags, with access, validation, hierarchy and taps (module docstring):
    the parts live in ``vocabularies.py``, ``tags.py`` and ``tree.py``."""


__all__ = ["Categories"]
