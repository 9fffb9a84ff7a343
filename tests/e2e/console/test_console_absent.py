"""The absent screen: the engine marks an idle operator absent, the console dims itself and
says so, and "Return to active" sets them working again."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import Setup
from tests.e2e.console.conftest import EXPECT_TIMEOUT_MS, token_of, working_operator

IDLE_S = 2  # the operator's own limit (auto_logout_s): the scheduler marks them absent after it


def status_of(setup: Setup, operator_id: str) -> str:
    answer = setup.admin.get(f"/v1/operators/{operator_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()["status"]


def test_the_engine_marks_an_idle_operator_absent_and_return_to_active_clears_it(
    setup: Setup, console, screenshots: Path
) -> None:
    group = setup.group()
    operator, ann = working_operator(setup, group["id"], auto_logout_s=IDLE_S)
    page = console(token_of(ann))
    # The screen is open but its heartbeats do not get through (a laptop asleep, a network
    # gone): nothing tells the engine the operator is there, so its idle rule applies.
    page.route("**/v1/me/heartbeat", lambda route: route.abort())
    page.reload()
    expect(page.get_by_label("My status")).to_have_value("working")
    absent = page.get_by_role("dialog", name="You are absent")
    expect(absent).to_be_hidden()

    deadline = time.monotonic() + EXPECT_TIMEOUT_MS / 1000
    while status_of(setup, operator["id"]) != "absent":
        assert time.monotonic() < deadline, "the engine did not mark the idle operator absent"
        page.wait_for_timeout(250)  # the page keeps running (and its heartbeats failing)
    expect(absent).to_be_hidden()  # the console has not heard of it yet
    page.unroute("**/v1/me/heartbeat")  # it wakes: the next heartbeat reaches the server

    expect(absent).to_be_visible()
    expect(absent).to_contain_text("You are marked absent")
    expect(page.locator("body")).to_have_class(re.compile(r"\bis-absent\b"))
    return_button = absent.get_by_role("button", name="Return to active")
    expect(return_button).to_be_focused()
    page.screenshot(path=str(screenshots / "operator-absent.png"))

    return_button.click()
    expect(absent).to_be_hidden()
    expect(page.locator("body")).not_to_have_class(re.compile(r"\bis-absent\b"))
    expect(page.get_by_label("My status")).to_have_value("working")
    assert status_of(setup, operator["id"]) == "working"
