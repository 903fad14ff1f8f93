"""Site search (DESIGN §12): full-text matches over the one item read path, ranked, with
escaped snippets; the vectors themselves are kept by database triggers (migration 0014)."""

from trovato.search.service import MAX_QUERY, PER_PAGE, Result, Results, Search, SearchError
from trovato.search.snippets import mark

__all__ = ["MAX_QUERY", "PER_PAGE", "Result", "Results", "Search", "SearchError", "mark"]
