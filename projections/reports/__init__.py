"""The reports read model: response-clock facts, the hourly roll-up, and the SLA and
operator reports."""
