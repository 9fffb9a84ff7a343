"""The history read model: every chat, searchable by filters and full text."""

from projections.history.projection import History
from projections.history.queries import HistoryFilters
from projections.history.tables import SEARCH_CHARS

__all__ = ["SEARCH_CHARS", "History", "HistoryFilters"]
