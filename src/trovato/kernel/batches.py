"""The site's batches (:class:`trovato.batch.Batches`) with every operation a batch may run:
the content bulk operations and the search index's rebuilds. The admin pages and the API start
and step batches through this one registry, so a batch started by either is the same thing."""

from __future__ import annotations

from trovato.batch import Batches
from trovato.content.bulk import bulk_operations
from trovato.kernel.services import Kernel
from trovato.search.reindexing import reindex_operations


def batches(kernel: Kernel) -> Batches:
    """The batches of the site, with every operation batches are started of."""
    return Batches(kernel.store, {
        **bulk_operations(kernel.content.items),
        **reindex_operations(kernel.search),
    })


__all__ = ["batches"]
