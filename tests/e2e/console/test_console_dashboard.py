"""The operator's dashboard and chat pane in a real browser, against a real server."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import Setup, position
from tests.e2e.console.conftest import PHONE, token_of, working_operator


def hand_off(bot: httpx.Client, group: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {
        "external_id": f"ext-{uuid.uuid4()}",
        "client": {
            "id": f"c-{uuid.uuid4().hex[:8]}",
            "phone": f"+4930{uuid.uuid4().int % 10**7:07d}",
        },
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
    _, ann = working_operator(setup, group["id"])
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


def test_the_wait_timer_turns_red_past_the_service_level(
    setup: Setup, console, screenshots: Path
) -> None:
    fast = setup.group(sl_first_response_s=2)
    slow = setup.group(sl_first_response_s=3600)
    _, ann = working_operator(setup, fast["id"], slow["id"])
    bot = setup.bot()
    page = console(token_of(ann))
    expect(page.locator(".live-state")).to_have_text("live")
    calm = hand_off(bot, slow, topic="delivery")
    muted = hand_off(bot, slow, topic="returns")
    answer = ann.post(f"/v1/chats/{muted['id']}/mute", json={"minutes": 30})
    assert answer.status_code == 200, (answer.text, muted)
    chat = hand_off(bot, fast)
    timer = card(page, chat["id"]).locator(".timer")
    expect(timer).to_have_text(re.compile(r"^\d\d:\d\d$"))
    # The first reading agrees with the SL: red only from 2 s on.
    text, classes = timer.evaluate("t => [t.textContent, t.className]")
    assert ("late" in classes) == (int(text[-2:]) >= 2 or text[:2] != "00"), (text, classes)
    expect(timer).to_have_class(re.compile(r"\blate\b"))
    expect(timer).not_to_have_text(re.compile(r"^00:0[01]$"))
    expect(card(page, calm["id"]).locator(".timer")).not_to_have_class(re.compile(r"\blate\b"))
    # The engine records the passed SL (its scheduler runs every second): the card says so.
    expect(card(page, chat["id"]).locator(".overdue-mark")).to_be_visible(timeout=10_000)
    expect(card(page, calm["id"]).locator(".overdue-mark")).to_be_hidden()
    expect(card(page, muted["id"]).locator(".muted-mark")).to_be_visible()
    expect(card(page, calm["id"]).locator(".muted-mark")).to_be_hidden()
    page.screenshot(path=screenshots / "operator-dashboard.png")


def test_a_supervisor_reassigns_and_both_operators_screens_follow(
    setup: Setup, console, screenshots: Path
) -> None:
    group = setup.group()
    ann, ann_http = working_operator(setup, group["id"], first_name="Ann")
    # Bob is on a break while the chat comes, so it is Ann's; then he starts work.
    bob, bob_http = setup.operator(group["id"], first_name="Bob", working=False)
    _, boss_http = setup.operator(group["id"], first_name="Sue", role="supervisor", working=False)
    chat = hand_off(setup.bot(), group)
    assert chat["operator_id"] == ann["id"], chat
    answer = bob_http.put(f"/v1/operators/{bob['id']}/status", json={"status": "working"})
    assert answer.status_code == 200, answer.text

    ann_page = console(token_of(ann_http))
    bob_page = console(token_of(bob_http))
    boss = console(token_of(boss_http))
    expect(card(ann_page, chat["id"])).to_be_visible()
    # Ann has the chat open when it is taken from her.
    card(ann_page, chat["id"]).get_by_role("button").click()
    ann_pane = ann_page.locator(".chat-pane")
    expect(ann_pane.get_by_role("button", name="Intercept")).to_be_visible()
    expect(bob_page.locator(".live-state")).to_have_text("live")
    expect(card(bob_page, chat["id"])).to_have_count(0)

    boss.get_by_role("tab", name="All").click()
    card(boss, chat["id"]).get_by_role("button").click()
    pane = boss.locator(".chat-pane")
    pane.get_by_label("Reassign to operator").select_option(bob["id"])
    pane.get_by_role("button", name="Reassign").click()
    expect(pane.locator(".notice")).to_have_text("Reassigned.")
    expect(pane.locator(".chat-head")).to_contain_text("with Bob")

    expect(card(bob_page, chat["id"])).to_be_visible()
    expect(card(ann_page, chat["id"])).to_have_count(0)
    # Ann's pane does not sit there stale (its actions would now be refused): it says why.
    expect(
        ann_pane.get_by_role("status").filter(has_text="This chat was moved to another operator")
    ).to_be_visible()
    expect(ann_pane.locator(".chat-head")).to_have_count(0)
    expect(ann_pane.get_by_role("button", name="Intercept")).to_have_count(0)
    expect(ann_page.get_by_role("tab", name="Mine")).to_contain_text("0")
    expect(bob_page.get_by_role("tab", name="Mine")).to_contain_text("1")

    boss.get_by_role("link", name="Operators").click()
    board = boss.locator(".operators-board")
    expect(board.locator(f'tr[data-id="{bob["id"]}"]')).to_contain_text("1/300")
    expect(board.locator(f'tr[data-id="{ann["id"]}"]')).to_contain_text("0/300")
    boss.screenshot(path=screenshots / "supervisor-board.png")


def test_status_switch(setup: Setup, console) -> None:
    group = setup.group()
    _, ann_http = working_operator(setup, group["id"])
    page = console(token_of(ann_http))
    status = page.get_by_label("My status")
    expect(status).to_have_value("working")
    with page.expect_response(lambda r: r.url.endswith("/status")) as answer:
        status.select_option("break")
    assert answer.value.status == 200
    assert ann_http.get("/v1/me").json()["status"] == "break"
    expect(page.locator(".notice.error")).to_have_count(0)


def test_a_phone_wide_screen_shows_the_folders_then_the_chat(
    setup: Setup, console, screenshots: Path
) -> None:
    group = setup.group()
    _, ann = working_operator(setup, group["id"])
    chat = hand_off(setup.bot(), group)
    page = console(token_of(ann), viewport=PHONE)
    the_card = card(page, chat["id"])
    expect(the_card).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=screenshots / "phone-dashboard.png")
    the_card.get_by_role("button").click()
    pane = page.locator(".chat-pane")
    expect(pane.get_by_role("button", name="Intercept")).to_be_visible()
    expect(the_card).to_be_hidden()
    pane.get_by_role("button", name="Intercept").click()
    reply = pane.get_by_role("textbox", name="Reply")
    expect(reply).to_be_enabled()
    reply.fill("Hi from a phone")
    reply.press("Control+Enter")
    expect(pane.locator(".msg.from-operator .text").last).to_have_text("Hi from a phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=screenshots / "phone-chat.png")
    pane.get_by_role("button", name="Back to the folders").click()
    expect(the_card).to_be_visible()


def test_a_draft_reply_survives_a_new_client_message(setup: Setup, console) -> None:
    group = setup.group()
    _, ann = working_operator(setup, group["id"])
    bot = setup.bot()
    chat = hand_off(bot, group)
    ok = ann.post(f"/v1/chats/{chat['id']}/intercept")
    assert ok.status_code == 200, ok.text
    page = console(token_of(ann))
    card(page, chat["id"]).get_by_role("button").click()
    pane = page.locator(".chat-pane")
    reply = pane.get_by_role("textbox", name="Reply")
    expect(reply).to_be_enabled()
    reply.fill("Half a sentence")
    answer = bot.post(f"/v1/chats/{chat['id']}/messages", json={"text": "Are you there?"})
    assert answer.status_code == 201, answer.text
    expect(pane.locator(".msg.from-client").last).to_contain_text("Are you there?")
    expect(reply).to_have_value("Half a sentence")
    expect(reply).to_be_focused()


def test_without_a_valid_token_the_console_asks_to_sign_in(
    setup: Setup, console, screenshots: Path
) -> None:
    page = console("not-a-token")
    form = page.get_by_role("form", name="Sign in", exact=True)
    expect(form.get_by_label("E-mail")).to_be_visible()
    expect(form.get_by_label("Password")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('switchboard.token')") is None
    page.screenshot(path=screenshots / "sign-in.png")
    # An invitation link asks the new operator for a password instead.
    page = console("", path="#/invite/some-code")
    invitation = page.get_by_role("form", name="Accept the invitation")
    expect(invitation.get_by_label("Choose a password")).to_be_focused()

    _, ann = working_operator(setup, setup.group()["id"])
    page = console(token_of(ann))
    expect(page.locator(".live-state")).to_have_text("live")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("form", name="Sign in", exact=True)).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('switchboard.token')") is None


def test_mute_unmute_and_editing_and_deleting_ones_own_message(setup: Setup, console) -> None:
    group = setup.group()
    _, ann = working_operator(setup, group["id"])
    bot = setup.bot()
    chat = hand_off(bot, group)
    page = console(token_of(ann))
    card(page, chat["id"]).get_by_role("button").click()
    pane = page.locator(".chat-pane")
    pane.get_by_role("button", name="Intercept").click()
    expect(pane.get_by_role("textbox", name="Reply")).to_be_enabled()

    pane.get_by_label("Mute for minutes").fill("5")
    pane.get_by_role("button", name="Mute", exact=True).click()
    expect(card(page, chat["id"]).locator(".muted-mark")).to_be_visible()
    assert ann.get(f"/v1/chats/{chat['id']}").json()["muted"] is True
    pane.get_by_role("button", name="Unmute").click()
    expect(card(page, chat["id"]).locator(".muted-mark")).to_be_hidden()

    reply = pane.get_by_role("textbox", name="Reply")
    reply.fill("Teh typo")
    pane.get_by_role("button", name="Send").click()
    mine = pane.locator(".msg.from-operator").last
    expect(mine.locator(".text")).to_have_text("Teh typo")
    mine.get_by_role("button", name="Edit message").click()
    mine.get_by_label("Edited text").fill("The fix")
    mine.get_by_role("button", name="Save").click()
    expect(pane.locator(".msg.from-operator").last.locator(".text")).to_have_text("The fix")
    feed = bot.get(f"/v1/chats/{chat['id']}/messages").json()["items"]
    assert [m["text"] for m in feed if m["author"] == "operator"] == ["The fix"]
    pane.locator(".msg.from-operator").last.get_by_role("button", name="Delete message").click()
    expect(pane.locator(".msg.from-operator").last).to_have_class(re.compile(r"\bdeleted\b"))
    # The bot's own message and the client's offer no such tools.
    expect(pane.locator(".msg.from-client button")).to_have_count(0)


def test_the_dashboard_by_keyboard(setup: Setup, console) -> None:
    group = setup.group()
    _, ann = working_operator(setup, group["id"])
    chat = hand_off(setup.bot(), group)
    page = console(token_of(ann))
    mine = page.get_by_role("tab", name="Mine")
    expect(card(page, chat["id"])).to_be_visible()
    mine.focus()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_role("tab", name="Queue")).to_be_focused()
    expect(page.get_by_role("tab", name="Queue")).to_have_attribute("aria-selected", "true")
    expect(card(page, chat["id"])).to_have_count(0)
    page.keyboard.press("ArrowLeft")
    expect(mine).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Tab")
    expect(card(page, chat["id"]).get_by_role("button")).to_be_focused()
    page.keyboard.press("Enter")
    pane = page.locator(".chat-pane")
    expect(pane.get_by_role("button", name="Intercept")).to_be_focused()
    page.keyboard.press("Enter")
    expect(pane.get_by_role("textbox", name="Reply")).to_be_focused()
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Control+Enter")
    expect(pane.locator(".msg.from-operator .text").last).to_have_text("Typed without a mouse")
