"""The reports read model: response-clock facts, the hourly roll-up, and the SLA and
operator activity reports.

Modules: ``projection`` (events to facts, chats and activity), ``tables``, ``rollup`` (the
hourly tallies), ``upkeep`` (what a batch writes), ``period`` (from, to, time zone and days,
parsed once), ``sla_report`` and ``activity_report`` (the queries), ``sections`` (their JSON).
"""

from projections.reports.period import BadPeriod, Day, Period, Periods, asked_period
from projections.reports.projection import Reports

__all__ = ["BadPeriod", "Day", "Period", "Periods", "Reports", "asked_period"]
