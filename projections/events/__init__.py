"""The Events read model: Events for bots and channels, derived from the log, with the
webhooks' deliveries scheduled in the same transactions (the outbox the sender works)."""

from projections.events.projection import EventsOut

__all__ = ["EventsOut"]
