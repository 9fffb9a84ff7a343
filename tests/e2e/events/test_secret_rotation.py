"""Rotating a webhook's secret over HTTP, to a real receiver: the new secret is shown once;
during the overlap each delivery carries a signature with the old secret and one with the new
(the ``standardwebhooks`` package verifies it with either); after it, only with the new."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.e2e.conftest import Setup, position
from tests.e2e.events.helpers import bot_and_operator, register, story, webhook_server
from tests.e2e.lifecycle.helpers import assert_problem, ok
from tests.e2e.receiver import Delivery, Receiver

DELIVERY_WAIT_S = 30.0


@pytest.fixture(scope="module")
def server(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    with webhook_server(module_database_url, tmp_path_factory) as process:
        yield process


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def verifies(secret: str, delivery: Delivery) -> bool:
    try:
        Webhook(secret).verify(delivery.body, delivery.headers)
    except WebhookVerificationError:
        return False
    return True


def deliveries_of(setup: Setup, receiver: Receiver, bot: Any, staff: Any) -> list[Delivery]:
    """A chat's story, and the deliveries it brought (every one of them)."""
    seen = len(receiver.requests)
    chat_id, _ = story(bot, staff, messages=1)
    assert receiver.wait_for(
        lambda got: any(
            d.event["type"] == "chat.rated" and d.event["chat_id"] == chat_id for d in got
        ),
        DELIVERY_WAIT_S,
    )
    return [d for d in receiver.requests[seen:] if d.event["chat_id"] == chat_id]


def test_both_secrets_sign_during_the_overlap_then_only_the_new(
    setup: Setup, receiver: Receiver
) -> None:
    bot_name, bot, _, staff = bot_and_operator(setup)
    hook = register(setup.admin, receiver.url, bot=bot_name)
    first = receiver.secret = hook["secret"]

    rotated = setup.admin.post(f"/v1/webhooks/{hook['id']}/rotate-secret")
    assert rotated.status_code == 200, rotated.text
    position(rotated)
    second = rotated.json()["secret"]
    assert second.startswith("whsec_") and second != first
    until = datetime.fromisoformat(rotated.json()["previous_secret_until"])
    assert abs(until - datetime.now(UTC) - timedelta(hours=24)) < timedelta(minutes=5)
    assert rotated.json()["id"] == hook["id"] and rotated.json()["active"]
    assert "secret" not in ok(setup.admin.get(f"/v1/webhooks/{hook['id']}"))

    during = deliveries_of(setup, receiver, bot, staff)
    assert during
    for delivery in during:
        assert len(delivery.headers["webhook-signature"].split(" ")) == 2
        assert verifies(first, delivery) and verifies(second, delivery)

    # Rotated again with no overlap: the second stops at once, the first is long gone.
    response = setup.admin.post(f"/v1/webhooks/{hook['id']}/rotate-secret", json={"overlap_s": 0})
    third = ok(response)["secret"]
    after = deliveries_of(setup, receiver, bot, staff)
    assert after
    for delivery in after:
        assert len(delivery.headers["webhook-signature"].split(" ")) == 1
        assert verifies(third, delivery)
        assert not verifies(second, delivery) and not verifies(first, delivery)


@pytest.mark.parametrize(
    "body", [{"overlap_s": -1}, {"overlap_s": 8 * 86_400}, {"overlap_s": "1"}, {"x": 1}]
)
def test_bad_rotations_are_refused_and_nothing_is_recorded(
    setup: Setup, receiver: Receiver, body: dict[str, Any]
) -> None:
    hook = register(setup.admin, receiver.url)
    head = position(setup.admin.post("/v1/groups", json={"name": f"g-{setup.suffix}-{id(body)}"}))
    refused = setup.admin.post(f"/v1/webhooks/{hook['id']}/rotate-secret", json=body)
    assert_problem(refused, 422, "validation")
    after = position(setup.admin.post("/v1/groups", json={"name": f"h-{setup.suffix}-{id(body)}"}))
    assert after - head == 2, "nothing but the second group was recorded in between"


def test_unknown_and_deleted_webhooks_have_no_secret_to_rotate(
    setup: Setup, receiver: Receiver
) -> None:
    unknown = "00000000-0000-4000-8000-000000000000"
    assert_problem(setup.admin.post(f"/v1/webhooks/{unknown}/rotate-secret"), 404, "not_found")
    hook = register(setup.admin, receiver.url)
    assert setup.admin.delete(f"/v1/webhooks/{hook['id']}").status_code == 204
    gone = setup.admin.post(f"/v1/webhooks/{hook['id']}/rotate-secret")
    assert_problem(gone, 404, "not_found")
    _, bot, _, staff = bot_and_operator(setup)
    for client in (bot, staff):
        assert_problem(client.post(f"/v1/webhooks/{unknown}/rotate-secret"), 403, "forbidden")
