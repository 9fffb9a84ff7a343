"""The chat pane's tools and the client panel in a real browser, against a real server: quick
replies by "/", private notes, "anything left?", message edit and delete bans, the client card
(editing, tags, notes, block and unblock, previous dialogs)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import Setup
from tests.e2e.console.conftest import PHONE, token_of, working_operator
from tests.e2e.console.test_console_dashboard import card, hand_off

FEED_WAIT_S = 20


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


def a_client(name: str = "Mia") -> dict[str, str]:
    return {
        "id": f"c-{uuid.uuid4().hex[:8]}",
        "name": name,
        "phone": f"+4930{uuid.uuid4().int % 10**7:07d}",
    }


def bot_feed(bot: httpx.Client, chat_id: str, until: str) -> list[dict[str, Any]]:
    """The bot's Events of this chat, read (long-polling) until one holds ``until``."""
    events: list[dict[str, Any]] = []
    after, deadline = 0, time.monotonic() + FEED_WAIT_S
    while time.monotonic() < deadline:
        page = ok(bot.get("/v1/events", params={"after": after, "wait": 2, "limit": 500}))
        events += [e for e in page["items"] if e["chat_id"] == chat_id]
        after = page["next_after"]
        if until in json.dumps(events):
            return events
    raise AssertionError(f"{until!r} never reached the bot's feed: {events}")


def open_chat(page, chat_id: str, *, intercept: bool = True):
    card(page, chat_id).get_by_role("button").click()
    pane = page.locator(".chat-pane")
    if intercept:
        pane.get_by_role("button", name="Intercept").click()
        expect(pane.get_by_role("textbox", name="Reply")).to_be_enabled()
    return pane


def client_panel(pane):
    return pane.get_by_role("region", name="Client", exact=True)


@contextmanager
def company_settings(setup: Setup, **values: Any) -> Iterator[None]:
    before = ok(setup.admin.get("/v1/settings"))
    ok(setup.admin.put("/v1/settings", json=values))
    try:
        yield
    finally:
        ok(setup.admin.put("/v1/settings", json={k: before[k] for k in values}))


def test_an_operator_replies_with_a_quick_reply_chosen_after_a_slash(
    setup: Setup, console, screenshots: Path
) -> None:
    group = setup.group()
    _, ann = working_operator(setup, group["id"], first_name="Ann")
    bot = setup.bot()
    word = f"q{uuid.uuid4().hex[:6]}"
    thanks = ok(
        ann.post(
            "/v1/quick-replies",
            json={
                "shortcut": f"{word}thanks",
                "title": "Thank the client",
                "text": "Thank you, {client_name}! {operator_first_name} here.",
                "personal": True,
            },
        ),
        201,
    )
    company = {"shortcut": f"{word}bye", "text": "Bye"}  # the company's: everyone's to use
    ok(setup.admin.post("/v1/quick-replies", json=company), 201)
    chat = hand_off(bot, group, client=a_client("Mia"))
    page = console(token_of(ann))
    pane = open_chat(page, chat["id"])
    reply = pane.get_by_role("textbox", name="Reply")
    listbox = pane.get_by_role("listbox", name="Quick replies")
    reply.press_sequentially(f"/{word}")
    expect(listbox.get_by_role("option")).to_have_count(2)
    page.screenshot(path=screenshots / "operator-quick-replies.png")
    # Filtered as the shortcut is typed; the arrows move, Enter chooses.
    reply.press_sequentially("t")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_have_accessible_name(f"/{word}thanks: Thank the client")
    reply.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    reply.press("Enter")
    expect(listbox).to_be_hidden()
    expect(reply).to_have_value("Thank you, Mia! Ann here.")
    expect(pane.locator(".quick-hint")).to_contain_text(f"/{word}thanks")
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/messages")) as sent:
        reply.press("Control+Enter")
    assert sent.value.post_data_json == {"quick_reply_id": thanks["id"]}
    expect(pane.locator(".msg.from-operator .text").last).to_have_text("Thank you, Mia! Ann here.")
    expect(reply).to_have_value("")

    # The server filled the placeholders: the bot relays the finished text.
    events = bot_feed(bot, chat["id"], "Thank you, Mia! Ann here.")
    created = [e["data"]["text"] for e in events if e["type"] == "message.created"]
    assert "Thank you, Mia! Ann here." in created
    feed = ok(bot.get(f"/v1/chats/{chat['id']}/messages"))["items"]
    assert [m["text"] for m in feed if m["author"] == "operator"] == ["Thank you, Mia! Ann here."]

    # A click chooses too; a chosen text edited is sent as the operator's own.
    reply.press_sequentially(f"/{word}b")
    listbox.get_by_role("option").first.click()
    expect(reply).to_have_value("Bye")
    reply.press_sequentially(" for now")
    expect(pane.locator(".quick-hint")).to_be_hidden()
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/messages")) as sent:
        pane.get_by_role("button", name="Send").click()
    assert sent.value.post_data_json == {"text": "Bye for now"}
    expect(pane.locator(".msg.from-operator .text").last).to_have_text("Bye for now")
    # Escape closes the list and leaves the text as typed.
    reply.press_sequentially("/")
    expect(listbox).to_be_visible()
    reply.press("Escape")
    expect(listbox).to_be_hidden()
    expect(reply).to_have_value("/")


def test_private_notes_show_in_the_console_and_never_reach_the_bot(
    setup: Setup, console, server
) -> None:
    group = setup.group()
    _, ann = working_operator(setup, group["id"])
    bot = setup.bot()
    chat = hand_off(bot, group)
    page = console(token_of(ann))
    pane = open_chat(page, chat["id"])
    notes = pane.get_by_role("region", name="Private notes")
    expect(notes).to_contain_text("staff only")
    expect(notes).to_contain_text("The client never sees these")
    secret = f"card ends {uuid.uuid4().int % 10000:04d}"
    notes.get_by_label("New private note").fill(secret)
    notes.get_by_role("button", name="Add note").click()
    expect(notes.locator(".note .text")).to_have_text([secret])
    expect(notes.locator(".note")).to_contain_text("you")
    expect(pane.get_by_role("list", name="Messages")).not_to_contain_text(secret)
    reply = pane.get_by_role("textbox", name="Reply")
    reply.fill("Checking your card now")
    pane.get_by_role("button", name="Send").click()
    expect(pane.locator(".msg.from-operator .text").last).to_have_text("Checking your card now")

    # A supervisor (the admin) sends the chat back to its group with a comment: another note.
    boss = console(server.admin_token)
    boss.get_by_role("tab", name="All").click()
    boss_pane = open_chat(boss, chat["id"], intercept=False)
    boss_pane.get_by_label("Reassign to group").select_option(group["id"])
    boss_pane.get_by_label("Reassign comment").fill("over to the billing desk")
    boss_pane.get_by_role("button", name="Reassign").click()
    expect(boss_pane.locator(".notice")).to_have_text("Reassigned.")
    boss_notes = boss_pane.get_by_role("region", name="Private notes")
    expect(boss_notes.locator(".note .text")).to_have_text([secret, "over to the billing desk"])

    events = bot_feed(bot, chat["id"], '"chat.reassigned"')
    assert "Checking your card now" in json.dumps(events)
    assert secret not in json.dumps(events)
    assert "billing desk" not in json.dumps(events)
    messages = ok(bot.get(f"/v1/chats/{chat['id']}/messages"))
    assert secret not in json.dumps(messages) and "billing desk" not in json.dumps(messages)
    staff_view = ok(setup.admin.get(f"/v1/chats/{chat['id']}"))
    assert [n["text"] for n in staff_view["notes"]] == [secret, "over to the billing desk"]


def test_anything_left_shows_the_question_with_its_buttons(setup: Setup, console) -> None:
    group = setup.group()
    _, ann = working_operator(setup, group["id"])
    bot = setup.bot()
    chat = hand_off(bot, group)
    page = console(token_of(ann))
    pane = open_chat(page, chat["id"])
    pane.get_by_role("button", name="Anything left?").click()
    question = pane.locator(".msg.from-system").last
    expect(question.locator(".text")).to_have_text("Is there anything else I can help you with?")
    offered = question.get_by_role("group", name="Buttons offered to the client")
    expect(offered.locator(".chip")).to_have_text(
        ["Yes, I have another question", "No, that's all"]
    )
    feed = ok(bot.get(f"/v1/chats/{chat['id']}/messages"))["items"]
    assert [b["value"] for b in feed[-1]["buttons"]] == ["yes", "no"]
    # The client presses "no": the chat closes, and the pane says why.
    pressed = bot.post(
        f"/v1/chats/{chat['id']}/messages", json={"text": "No", "button_value": "no"}
    )
    ok(pressed, 201)
    expect(pane.locator(".closed-note")).to_contain_text("resolved")
    expect(pane.locator(".msg.from-client").last).to_contain_text("pressed: no")


def test_edits_and_deletes_are_offered_as_the_company_allows(setup: Setup, console) -> None:
    group = setup.group()
    _, ann = working_operator(setup, group["id"])
    chat = hand_off(setup.bot(), group)
    ok(ann.post(f"/v1/chats/{chat['id']}/intercept"))
    ok(ann.post(f"/v1/chats/{chat['id']}/messages", json={"text": "Hello"}), 201)
    with company_settings(setup, forbid_message_deletes=True, forbid_message_edits=False):
        page = console(token_of(ann))
        pane = open_chat(page, chat["id"], intercept=False)
        mine = pane.locator(".msg.from-operator").last
        expect(mine.get_by_role("button", name="Edit message")).to_be_visible()
        expect(mine.get_by_role("button", name="Delete message")).to_have_count(0)
        # By keyboard: the edit form takes the focus, Enter on Save sends it.
        mine.get_by_role("button", name="Edit message").press("Enter")
        box = pane.get_by_label("Edited text")
        expect(box).to_be_focused()
        box.fill("Hello there")
        pane.get_by_role("button", name="Save", exact=True).click()
        expect(pane.locator(".msg.from-operator .text").last).to_have_text("Hello there")
        expect(pane.get_by_label("Edited text")).to_have_count(0)
    with company_settings(setup, forbid_message_edits=True, forbid_message_deletes=False):
        page = console(token_of(ann))
        pane = open_chat(page, chat["id"], intercept=False)
        mine = pane.locator(".msg.from-operator").last
        expect(mine.get_by_role("button", name="Delete message")).to_be_visible()
        expect(mine.get_by_role("button", name="Edit message")).to_have_count(0)


def test_a_supervisor_blocks_the_client_in_the_panel(setup: Setup, console) -> None:
    group = setup.group()
    _, ann = working_operator(setup, group["id"])
    _, sue = setup.operator(group["id"], first_name="Sue", role="supervisor", working=False)
    bot = setup.bot()
    chat = hand_off(bot, group, client=a_client("Spammy"))
    ok(ann.post(f"/v1/chats/{chat['id']}/intercept"))

    # Operators may block only where the company allows it; refused, the panel says so.
    with company_settings(setup, operators_may_block_clients=True):
        ann_page = console(token_of(ann))
        ann_pane = open_chat(ann_page, chat["id"], intercept=False)
        ann_panel = client_panel(ann_pane)
        expect(ann_panel.get_by_role("button", name="Block client", exact=True)).to_be_visible()
    ann_panel.get_by_role("button", name="Block client", exact=True).click()
    expect(ann_pane.locator(".notice.error")).to_contain_text("Only supervisors may block")
    expect(ann_panel.get_by_role("button", name="Block client", exact=True)).to_have_count(0)
    assert ok(ann.get(f"/v1/chats/{chat['id']}"))["status"] == "active"

    boss = console(token_of(sue))
    boss.get_by_role("tab", name="All").click()
    pane = open_chat(boss, chat["id"], intercept=False)
    panel = client_panel(pane)
    panel.get_by_label("Block reason").fill("spam")
    panel.get_by_role("button", name="Block client", exact=True).click()
    expect(panel.locator(".blocked-banner")).to_have_text("Blocked: spam")
    expect(pane.locator(".closed-note")).to_contain_text("blocked")
    expect(pane.locator(".chat-head")).to_contain_text("client blocked")
    # The operator's open pane follows: closed, and the card says blocked.
    expect(ann_pane.locator(".closed-note")).to_contain_text("blocked")
    expect(client_panel(ann_pane).locator(".blocked-banner")).to_be_visible()
    closed = ok(sue.get(f"/v1/chats/{chat['id']}"))
    assert (closed["status"], closed["close_reason"]) == ("closed", "blocked")
    assert closed["client_card"]["blocked_reason"] == "spam"
    refused = bot.post(
        "/v1/chats", json={"external_id": f"e-{uuid.uuid4()}", "client": chat["client"]}
    )
    assert refused.status_code == 409 and refused.json()["code"] == "client_blocked"

    panel.get_by_role("button", name="Unblock client").click()
    expect(panel.locator(".blocked-banner")).to_have_count(0)
    expect(panel.get_by_role("button", name="Block client", exact=True)).to_be_visible()
    assert ok(sue.get(f"/v1/clients/{closed['client_id']}"))["blocked"] is False


def test_the_client_card_is_edited_in_the_panel_and_the_dashboard_follows(
    setup: Setup, console, screenshots: Path
) -> None:
    group = setup.group()
    _, ann = working_operator(setup, group["id"])
    bot = setup.bot()
    client = {**a_client("Mia"), "email": "mia@example.com", "language": "en"}
    earlier = hand_off(bot, group, client=client, topic="delivery")
    ok(ann.post(f"/v1/chats/{earlier['id']}/intercept"))
    ok(ann.post(f"/v1/chats/{earlier['id']}/close", json={}))
    chat = hand_off(bot, group, client=client)
    page = console(token_of(ann))
    expect(card(page, chat["id"]).locator(".client")).to_have_text(client["phone"])
    pane = open_chat(page, chat["id"])
    panel = client_panel(pane)
    expect(panel.locator(".card-fields")).to_contain_text("mia@example.com")

    panel.get_by_role("button", name="Edit card").click()
    form = panel.get_by_role("form", name="Edit the client card")
    expect(form.get_by_label("Name", exact=True)).to_be_focused()
    form.get_by_label("Name", exact=True).fill("Mia Muster")
    form.get_by_label("Phone").fill("+49 30 5550100")
    form.get_by_role("button", name="Save card").click()
    expect(card(page, chat["id"]).locator(".client")).to_have_text("+49 30 5550100")
    expect(panel.locator(".card-fields")).to_contain_text("+49 30 5550100")
    expect(pane.locator(".chat-head h2")).to_have_text("Mia Muster")
    saved = ok(ann.get(f"/v1/clients/{chat['client_id']}"))
    assert (saved["name"], saved["phone"], saved["email"]) == (
        "Mia Muster",
        "+49 30 5550100",
        "mia@example.com",
    )

    panel.get_by_label("Tags, separated by commas").fill("vip, late payer")
    panel.get_by_role("button", name="Save tags").click()
    expect(panel.get_by_role("list", name="Tags").get_by_role("listitem")).to_have_text(
        ["vip", "late payer"]
    )
    panel.get_by_label("New client note").fill("prefers e-mail")
    panel.get_by_role("button", name="Add client note").click()
    expect(panel.locator(".client-notes .note .text")).to_have_text(["prefers e-mail"])
    notes = pane.get_by_role("region", name="Private notes")
    notes.get_by_label("New private note").fill("Promised a call back on Friday")
    notes.get_by_role("button", name="Add note").click()
    expect(notes.locator(".note")).to_have_count(1)
    pane.get_by_role("textbox", name="Reply").fill("Your parcel is on its way")
    pane.get_by_role("button", name="Send").click()
    expect(pane.locator(".msg.from-operator .text").last).to_have_text("Your parcel is on its way")
    page.screenshot(path=screenshots / "operator-chat-tools.png")

    panel.get_by_role("button", name="Delete client note: prefers e-mail").click()
    expect(panel.locator(".client-notes .note")).to_have_count(0)
    assert ok(ann.get(f"/v1/clients/{chat['client_id']}"))["notes"] == []

    # The previous dialog opens in the pane.
    previous = panel.locator(".previous").get_by_role("button")
    expect(previous).to_have_count(1)
    expect(previous).to_contain_text("delivery")
    previous.click()
    expect(pane.locator(".closed-note")).to_be_visible()
    expect(pane.locator(".msg.from-client").first).to_contain_text("My invoice is wrong")

    # On a phone the panel comes below the chat, within the screen's width.
    phone = console(token_of(ann), viewport=PHONE)
    phone_pane = open_chat(phone, chat["id"], intercept=False)
    expect(client_panel(phone_pane).locator(".card-fields")).to_contain_text("Mia Muster")
    expect(phone_pane.get_by_role("textbox", name="Reply")).to_be_enabled()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone_pane.evaluate("p => p.scrollWidth <= p.clientWidth")
    phone.screenshot(path=screenshots / "phone-chat-tools.png", full_page=True)


def test_controls_of_the_pane_have_accessible_names(setup: Setup, console) -> None:
    group = setup.group()
    _, ann = working_operator(setup, group["id"])
    chat = hand_off(setup.bot(), group)
    page = console(token_of(ann))
    open_chat(page, chat["id"])
    expect(page.get_by_role("region", name="Private notes")).to_be_visible()
    controls = page.evaluate(
        """() => [...document.querySelectorAll('.chat-pane button, .chat-pane input,'
              + ' .chat-pane textarea, .chat-pane select, .chat-pane a')]
            .filter((el) => !el.closest('[hidden]'))
            .map((el) => [el.getAttribute('aria-label') || [...(el.labels || [])]
              .map((l) => l.textContent).join(' ') || el.textContent.trim(), el.outerHTML])"""
    )
    assert len(controls) > 15, controls
    assert [html for name, html in controls if not name.strip()] == []


def test_an_operator_reassigns_to_a_colleague_where_the_company_allows(
    setup: Setup, console
) -> None:
    group = setup.group()
    _, ann = working_operator(setup, group["id"], first_name="Ann")
    # Bob is on a break while the chat comes, so it is Ann's; then he starts work.
    bob, bob_http = setup.operator(group["id"], first_name="Bob", working=False)
    chat = hand_off(setup.bot(), group)
    ok(ann.post(f"/v1/chats/{chat['id']}/intercept"))
    ok(bob_http.put(f"/v1/operators/{bob['id']}/status", json={"status": "working"}))
    with company_settings(setup, operators_may_reassign=True):
        page = console(token_of(ann))
        pane = open_chat(page, chat["id"], intercept=False)
        to_operator = pane.get_by_label("Reassign to operator")
        expect(to_operator.locator("option", has_text="Bob")).to_have_count(1)
        expect(pane.locator(".chat-head")).to_contain_text("with Ann")  # names known too
        to_operator.select_option(bob["id"])
        pane.get_by_role("button", name="Reassign").click()
        # The chat leaves Ann's view: her pane confirms, it does not say "moved".
        expect(pane.get_by_role("status").filter(has_text="Reassigned.")).to_be_visible()
        expect(pane.locator(".chat-head")).to_have_count(0)
        expect(card(page, chat["id"])).to_have_count(0)
        expect(pane.locator(".notice.error")).to_have_count(0)
    assert ok(setup.admin.get(f"/v1/chats/{chat['id']}"))["operator_id"] == bob["id"]
