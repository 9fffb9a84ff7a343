"""Admin → Webhooks in a real browser, against a real local receiver: register (the secret
shown once, with a copy button), a delivery in the log, change, disable, replay, delete."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ServerProcess, Setup
from tests.e2e.console.conftest import working_operator
from tests.e2e.console.test_console_dashboard import hand_off
from tests.e2e.events.helpers import webhook_server
from tests.e2e.lifecycle.helpers import named_token
from tests.e2e.receiver import Receiver

DELIVERY_WAIT_S = 30.0


@pytest.fixture(scope="module")
def server(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """A server whose webhook sender may reach this machine's receiver, retrying quickly."""
    with webhook_server(module_database_url, tmp_path_factory) as process:
        yield process


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def delivery_rows(page, status: str):
    """The delivery log's rows with this status, once a refresh shows one (the sender records
    the answer just after the receiver has given it)."""
    rows = page.locator("table.deliveries tbody tr").filter(has_text=status)
    for _ in range(40):
        page.get_by_role("button", name="Refresh").click()
        if rows.count():
            return rows
        page.wait_for_timeout(250)
    raise AssertionError(f"no {status} delivery shown")


def test_admin_registers_a_webhook_sees_its_secret_once_and_a_delivery(
    setup: Setup, console, server: ServerProcess, receiver: Receiver, screenshots: Path
) -> None:
    group = setup.group()
    working_operator(setup, group["id"])
    bot_name, bot = named_token(setup, "bot")
    page = console(server.admin_token, path="#/admin")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)
    form = page.get_by_role("form", name="Register a webhook")

    # Refused input says why, and nothing is registered.
    form.get_by_label("Receiver URL").fill("ftp://example.com/hook")
    form.get_by_role("button", name="Register webhook").click()
    expect(form.locator(".notice.error")).to_be_visible()
    assert setup.admin.get("/v1/webhooks").json()["items"] == []

    form.get_by_label("Receiver URL").fill(receiver.url)
    form.get_by_label("Description").fill("the connector")
    form.get_by_label("Only this bot's chats (token name)").fill(bot_name)
    form.get_by_label("chat.assigned").check()
    form.get_by_role("button", name="Register webhook").click()
    secret = page.locator(".webhook-secret")
    expect(secret).to_contain_text("whsec_")
    receiver.secret = secret.inner_text()
    page.get_by_role("button", name="Copy secret").click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == receiver.secret
    (hook,) = setup.admin.get("/v1/webhooks").json()["items"]
    assert (hook["url"], hook["bot"], hook["events"]) == (receiver.url, bot_name, ["chat.assigned"])
    assert "secret" not in hook
    table = page.locator("table.webhooks-table")
    expect(table).to_contain_text(receiver.url)
    expect(table).to_contain_text("enabled")

    chat = hand_off(bot, group)
    assert receiver.wait_for(
        lambda got: any(d.valid and d.event["chat_id"] == chat["id"] for d in got),
        DELIVERY_WAIT_S,
    ), "the receiver got no signed delivery"
    page.get_by_role("button", name=f"Deliveries of {receiver.url}").click()
    delivered = delivery_rows(page, "delivered")
    expect(delivered.first).to_contain_text("chat.assigned")
    page.locator("section.webhooks").screenshot(path=str(screenshots / "admin-webhooks.png"))

    # Replay from the first delivery's position: the same Event (same id) comes again.
    first = receiver.accepted()[0]
    page.get_by_label("Replay from position").fill(str(first["position"]))
    page.get_by_role("button", name="Replay", exact=True).click()
    expect(page.get_by_role("form", name="Replay").locator(".notice.ok")).to_be_visible()
    assert receiver.wait_for(
        lambda got: sum(d.event["id"] == first["id"] for d in got) >= 2, DELIVERY_WAIT_S
    ), "the replay sent nothing again"

    # Change the event types; disable and enable again.
    page.get_by_role("button", name=f"Change {receiver.url}").click()
    change = page.get_by_role("form", name="Change webhook")
    expect(change.get_by_label("chat.assigned")).to_be_checked()
    change.get_by_label("chat.closed").check()
    change.get_by_role("button", name="Save changes").click()
    expect(page.locator(".webhook-list > .notice.ok")).to_contain_text("changed")
    assert setup.admin.get(f"/v1/webhooks/{hook['id']}").json()["events"] == [
        "chat.assigned",
        "chat.closed",
    ]
    page.get_by_role("button", name=f"Disable {receiver.url}").click()
    expect(table).to_contain_text("disabled")
    assert setup.admin.get(f"/v1/webhooks/{hook['id']}").json()["active"] is False
    page.get_by_role("button", name=f"Enable {receiver.url}").click()
    expect(table).to_contain_text("enabled")

    # The secret is not shown again: not after another visit, not by the API.
    page.get_by_role("link", name="History").click()
    page.get_by_role("link", name="Admin").click()
    expect(page.locator("table.webhooks-table")).to_contain_text(receiver.url)
    expect(page.locator(".webhook-secret")).to_have_count(0)
    assert "whsec_" not in setup.admin.get(f"/v1/webhooks/{hook['id']}").text

    page.get_by_role("button", name=f"Delete {receiver.url}").click()
    page.get_by_role("button", name="Yes, delete").click()
    expect(page.locator(".webhook-list > .notice.ok")).to_contain_text("deleted")
    expect(page.locator("table.webhooks-table")).to_have_count(0)
    assert setup.admin.get(f"/v1/webhooks/{hook['id']}").status_code == 404
