"""The console's folders New, Mine, Queue, Help and Closed, in a real browser, live.

A module of its own, so a server of its own: the help queue is every operator's, and the
dispatcher would give its chats to any operator of another test still working with room.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import Setup, position
from tests.e2e.console.conftest import token_of
from tests.e2e.console.test_console_dashboard import card, hand_off


def test_a_deleted_groups_chat_shows_in_help_and_a_new_chat_in_new_then_mine(
    setup: Setup, console, screenshots: Path
) -> None:
    vip, sales = setup.group(routing="manual"), setup.group()
    ann, ann_http = setup.operator(sales["id"], working=False, first_name="Ann")
    bot = setup.bot()
    page = console(token_of(ann_http))
    expect(page.locator(".live-state")).to_have_text("live")
    folders = page.get_by_role("tab")
    expect(folders).to_have_count(5)
    for n, name in enumerate(("New", "Mine", "Queue", "Help", "Closed")):
        expect(folders.nth(n)).to_contain_text(name)
    help_tab, new_tab = page.get_by_role("tab", name="Help"), page.get_by_role("tab", name="New")

    # A chat waits in VIP, which Ann is not in; VIP is deleted: the chat moves to Help.
    stranded = hand_off(bot, vip)
    expect(help_tab).to_contain_text("0")
    deleted = setup.admin.delete(f"/v1/groups/{vip['id']}")
    assert deleted.status_code == 204, deleted.text
    expect(help_tab).to_contain_text("1")
    help_tab.click()
    expect(card(page, stranded["id"])).to_be_visible()
    card(page, stranded["id"]).get_by_role("button").click()  # she may open it
    pane = page.locator(".chat-pane")
    expect(pane.locator(".msg.from-client")).to_contain_text("My invoice is wrong")
    page.screenshot(path=screenshots / "operator-help.png")

    # Ann starts work: the engine gives her the chat from Help; a new one of Sales comes too.
    answer = ann_http.put(f"/v1/operators/{ann['id']}/status", json={"status": "working"})
    assert answer.status_code == 200, answer.text
    expect(help_tab).to_contain_text("0")
    expect(card(page, stranded["id"])).to_have_count(0)
    seen = setup.admin.get("/v1/operators", params={"min_position": position(answer)})
    assert seen.status_code == 200, seen.text  # routing sees her working
    fresh = hand_off(bot, sales)
    assert fresh["operator_id"] == ann["id"], fresh
    new_tab.click()
    expect(card(page, fresh["id"])).to_be_visible()
    expect(card(page, stranded["id"])).to_be_visible()
    expect(new_tab).to_contain_text("2")

    # Intercepted, it leaves New for Mine, where it is active.
    card(page, fresh["id"]).get_by_role("button").click()
    expect(pane.locator(".chat-head h2")).to_have_text(fresh["client"]["phone"])
    pane.get_by_role("button", name="Intercept").click()
    expect(pane.get_by_role("textbox", name="Reply")).to_be_enabled()
    expect(card(page, fresh["id"])).to_have_count(0)
    expect(new_tab).to_contain_text("1")
    page.get_by_role("tab", name="Mine").click()
    expect(card(page, fresh["id"]).locator(".status")).to_have_text("active")
    expect(page.get_by_role("tab", name="Mine")).to_contain_text("2")
