"""Site search (DESIGN §12): full-text matches over the one item read path, ranked, with
escaped snippets, in the site's search language; the vectors themselves are kept by database
triggers (migrations 0014, 0015 and 0018)."""

from trovato.search.service import MAX_QUERY, PER_PAGE, Result, Results, Search, SearchError
from trovato.search.snippets import mark

__all__ = ["MAX_QUERY", "PER_PAGE", "Result", "Results", "Search", "SearchError", "mark"]
