"""The directory read model: operators (status, load, groups) and groups, as the API lists
them and routing reads them."""

from projections.directory.projection import Directory
from projections.directory.routing import DirectoryRoutingView

__all__ = ["Directory", "DirectoryRoutingView"]
