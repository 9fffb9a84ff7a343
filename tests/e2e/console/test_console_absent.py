"""The absent screen: the engine marks an idle operator absent, the console dims itself and
says so, and "Return to active" sets them working again."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from playwright.sync_api import expect

from tests.e2e.conftest import ServerProcess, Setup
from tests.e2e.console.conftest import EXPECT_TIMEOUT_MS, WIDE, token_of

IDLE_S = 2  # the operator's own limit (auto_logout_s): the scheduler marks them absent after it
HEARTBEAT = "**/v1/me/heartbeat"


def status_of(setup: Setup, operator_id: str) -> str:
    answer = setup.admin.get(f"/v1/operators/{operator_id}")
    assert answer.status_code == 200, answer.text
    return answer.json()["status"]


def test_the_engine_marks_an_idle_operator_absent_and_return_to_active_clears_it(
    browser, server: ServerProcess, setup: Setup, screenshots: Path
) -> None:
    operator, ann = setup.operator(setup.group()["id"], working=False, auto_logout_s=IDLE_S)
    context = browser.new_context(viewport=WIDE)
    try:
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        context.add_init_script(
            f"sessionStorage.setItem('switchboard.token', {json.dumps(token_of(ann))});"
        )
        # The screen is open but its heartbeats do not get through (a laptop asleep, a network
        # gone): nothing tells the engine the operator is there, so its idle rule applies.
        context.route(HEARTBEAT, lambda route: route.abort())
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{server.base_url}/console/")
        status = page.get_by_label("My status")
        absent = page.get_by_role("dialog", name="You are absent")
        expect(status).to_have_value("offline")
        expect(absent).to_be_hidden()

        status.select_option("working")  # from now on, idle counts
        deadline = time.monotonic() + EXPECT_TIMEOUT_MS / 1000
        while status_of(setup, operator["id"]) != "absent":
            assert time.monotonic() < deadline, "the engine did not mark the idle operator absent"
            page.wait_for_timeout(250)  # the page runs on, its heartbeats failing
        expect(absent).to_be_hidden()  # the console has not heard of it yet
        context.unroute(HEARTBEAT)  # it wakes: the next heartbeat gets through

        expect(absent).to_be_visible()
        expect(absent).to_contain_text("You are marked absent")
        expect(status).to_have_value("absent")  # behind the dialog: the status as it is
        expect(page.locator("body")).to_have_class(re.compile(r"\bis-absent\b"))
        back = absent.get_by_role("button", name="Return to active")
        expect(back).to_be_focused()
        page.screenshot(path=str(screenshots / "operator-absent.png"))

        back.click()
        expect(absent).to_be_hidden()
        expect(page.locator("body")).not_to_have_class(re.compile(r"\bis-absent\b"))
        expect(status).to_have_value("working")
        assert status_of(setup, operator["id"]) == "working"
        assert not errors, f"the console threw: {errors}"
    finally:
        context.close()
