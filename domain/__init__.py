"""The pure domain: aggregates, their events and invariants, and the routing policy.

Imports only the standard library and ``eventsourcing.domain``. Time and ids come in as
arguments; nothing here reads a clock or touches I/O.
"""
