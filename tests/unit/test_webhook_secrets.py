"""A webhook's secret rotation (domain) and the signature header the sender makes of it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from standardwebhooks.webhooks import Webhook as Receiver
from standardwebhooks.webhooks import WebhookVerificationError

from application.webhooks import new_secret
from domain.errors import InvalidValue
from domain.webhook import Webhook
from infrastructure.webhook_sender import signature

AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def registered(secret: str) -> Webhook:
    return Webhook.register(
        webhook_id=uuid4(),
        at=AT,
        actor="admin:root",
        url="https://example.com/hook",
        events=[],
        bot=None,
        description=None,
        secret=secret,
    )


def test_rotation_keeps_the_replaced_secret_for_the_overlap_only() -> None:
    first, second, third = new_secret(), new_secret(), new_secret()
    webhook = registered(first)
    webhook.rotate_secret(second, overlap=timedelta(hours=24), at=AT, actor="admin:root")
    assert (webhook.secret, webhook.previous_secret) == (second, first)
    assert webhook.previous_until == AT + timedelta(hours=24)
    # Rotated again within the overlap: two secrets at most, the oldest goes.
    webhook.rotate_secret(third, overlap=timedelta(0), at=AT, actor="admin:root")
    assert (webhook.secret, webhook.previous_secret, webhook.previous_until) == (third, second, AT)
    replayed = None
    for event in webhook.collect_events():
        replayed = event.mutate(replayed)
    assert (replayed.secret, replayed.previous_secret) == (third, second)


@pytest.mark.parametrize("overlap", [timedelta(seconds=-1), timedelta(days=8)])
def test_an_overlap_out_of_bounds_is_refused_and_nothing_recorded(overlap: timedelta) -> None:
    webhook = registered(new_secret())
    with pytest.raises(InvalidValue):
        webhook.rotate_secret(new_secret(), overlap=overlap, at=AT, actor="admin:root")
    assert len(webhook.pending_events) == 1  # its registration only


def test_the_header_verifies_with_either_secret_during_the_overlap() -> None:
    old, new = new_secret(), new_secret()
    body, now = '{"id":"evt_1"}', datetime.now(UTC)
    row = {"id": "evt_1", "secret": new, "previous_secret": old}
    header = signature(row, now, body)
    headers = {"webhook-id": "evt_1", "webhook-timestamp": str(int(now.timestamp()))}
    for secret in (old, new):
        Receiver(secret).verify(body, {**headers, "webhook-signature": header})
    alone = signature({**row, "previous_secret": None}, now, body)
    assert " " not in alone
    with pytest.raises(WebhookVerificationError):
        Receiver(old).verify(body, {**headers, "webhook-signature": alone})
