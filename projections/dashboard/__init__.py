"""The dashboard read model: a row per chat as the operators' tabs show it, and its queries."""

from domain.visibility import Viewer
from projections.dashboard.changes import ANNOUNCED_ROWS, DashboardChanges
from projections.dashboard.projection import Dashboard
from projections.dashboard.tabs import ORDER, TABS

__all__ = ["ANNOUNCED_ROWS", "ORDER", "TABS", "Dashboard", "DashboardChanges", "Viewer"]
