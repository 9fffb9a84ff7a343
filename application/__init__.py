"""Use cases: the Switchboard application, one method per command, over the event store."""
