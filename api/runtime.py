"""What the API needs from the running process, as a protocol.

The composition root (``infrastructure.bootstrap.Services``) provides it, the live stream's
hub built there too; the API never imports infrastructure, so the layers stay as DESIGN.md
draws them.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import SecretStr

from api.stream import Hub, LiveBroker
from application.app import Switchboard
from projections.dashboard import Dashboard
from projections.directory import Directory
from projections.events import EventsOut
from projections.history import History
from projections.machinery.positions import PositionWaiter
from projections.reports import Reports


class ApiConfig(Protocol):
    """The part of the process configuration the API reads."""

    admin_token: SecretStr | None
    read_wait_s: float
    ready_lag: int
    stream_heartbeat_s: float
    stream_queue: int
    stream_send_timeout_s: float
    webhooks_reach_private: bool


class Runtime(Protocol):
    config: ApiConfig
    app: Switchboard
    directory: Directory
    dashboard: Dashboard
    history: History
    reports: Reports
    events_out: EventsOut
    waiter: PositionWaiter
    broker: LiveBroker
    hub: Hub

    @property
    def database_up(self) -> bool:
        """False while the database is known to be unreachable: requests get 503 at once."""
        ...

    def wait_for(self, name: str, position: int, timeout: float) -> bool: ...

    def positions(self) -> dict[str, int]:
        """Each read model's position, as this process last heard it."""
        ...

    def start(self) -> None: ...

    def stop(self) -> None: ...
