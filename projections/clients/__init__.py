"""The clients read model: every client card, searchable by name, phone, e-mail, username
and tag."""

from projections.clients.projection import Clients
from projections.clients.queries import ClientFilters

__all__ = ["ClientFilters", "Clients"]
