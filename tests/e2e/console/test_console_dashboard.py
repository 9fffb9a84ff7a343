"""The operator's dashboard and chat pane in a real browser, against a real server."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import Setup, position
from tests.e2e.console.conftest import PHONE, token_of


def hand_off(bot: httpx.Client, group: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {
        "external_id": f"ext-{uuid.uuid4()}",
        "client": {"id": f"c-{uuid.uuid4().hex[:8]}", "phone": f"+4930{uuid.uuid4().int % 10**7:07d}"},
        "group_id": group["id"],
        "topic": "billing",
        "transcript": [
            {"author": "client", "text": "My invoice is wrong"},
            {"author": "bot", "text": "Let me find someone for you"},
        ],
        **fields,
    }
    response = bot.post("/v1/chats", json=body)
    assert response.status_code == 201, response.text
    position(response)
    return response.json()


def card(page, chat_id: str):
    return page.locator(f'.card[data-id="{chat_id}"]')


def test_a_handoff_appears_within_a_second_and_the_operator_replies(
    setup: Setup, console, screenshots: Path
) -> None:
    group = setup.group()
    operator, ann = setup.operator(group["id"])
    bot = setup.bot()
    page = console(token_of(ann))
    expect(page.locator(".live-state")).to_have_text("live")
    expect(page.get_by_role("tab", name="Mine")).to_have_attribute("aria-selected", "true")

    sent = time.monotonic()
    chat = hand_off(bot, group)
    expect(card(page, chat["id"])).to_be_visible()
    seen = time.monotonic() - sent
    assert seen < 1.0, f"the handoff took {seen:.2f} s to appear"
    expect(page.get_by_role("tab", name="Mine")).to_contain_text("1")
    expect(card(page, chat["id"]).locator(".topic")).to_have_text("billing")

    card(page, chat["id"]).get_by_role("button").click()
    pane = page.locator(".chat-pane")
    expect(pane.locator(".msg.from-client")).to_contain_text("My invoice is wrong")
    expect(pane.locator(".msg.from-bot")).to_contain_text("Let me find someone")
    pane.get_by_role("button", name="Intercept").click()
    expect(pane.get_by_role("textbox", name="Reply")).to_be_enabled()
    pane.get_by_role("textbox", name="Reply").fill("Hello, I am looking at your invoice")
    pane.get_by_role("button", name="Send").click()
    expect(pane.locator(".msg.from-operator .text").last).to_have_text(
        "Hello, I am looking at your invoice"
    )
    page.screenshot(path=screenshots / "operator-chat.png")

    messages = bot.get(f"/v1/chats/{chat['id']}/messages").json()["items"]
    assert [m["text"] for m in messages if m["author"] == "operator"] == [
        "Hello, I am looking at your invoice"
    ]
    # The client answers: the pane shows it without a reload.
    answer = bot.post(f"/v1/chats/{chat['id']}/messages", json={"text": "Thanks!"})
    assert answer.status_code == 201, answer.text
    expect(pane.locator(".msg.from-client").last).to_contain_text("Thanks!")
    expect(card(page, chat["id"]).locator(".last")).to_contain_text("Thanks!")
