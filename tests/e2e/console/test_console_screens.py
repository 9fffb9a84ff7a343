"""History, reports and admin screens of the console in a real browser, and how its files are
served."""

from __future__ import annotations

import re
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect

from api.console import STATIC
from tests.e2e.conftest import (
    SWITCHBOARD,
    ServerProcess,
    Setup,
    free_port,
    position,
    stop_cleanly,
)
from tests.e2e.console.conftest import token_of, working_operator
from tests.e2e.console.test_console_dashboard import card, hand_off


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def served_chat(setup: Setup, group: dict[str, Any], operator_http: httpx.Client, bot, **fields):
    """A chat handed off, intercepted, answered, closed and rated 5; returns it and the
    rating's log position."""
    chat = hand_off(bot, group, **fields)
    ok(operator_http.post(f"/v1/chats/{chat['id']}/intercept"))
    answer = {"text": "Refund approved"}
    ok(operator_http.post(f"/v1/chats/{chat['id']}/messages", json=answer), 201)
    ok(operator_http.post(f"/v1/chats/{chat['id']}/close", json={}))
    rated = bot.post(f"/v1/chats/{chat['id']}/rating", json={"score": 5})
    ok(rated)
    return chat, position(rated)


def test_the_console_is_served_from_the_package_and_loads_nothing_from_elsewhere(
    server: ServerProcess,
) -> None:
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        page = http.get("/console/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "connect-src 'self'" in policy
        moved = http.get("/console")
        assert moved.status_code in (307, 308) and moved.headers["location"].endswith("/console/")
        for script in sorted((STATIC / "js").glob("*.js")):
            answer = http.get(f"/console/js/{script.name}")
            assert answer.status_code == 200, script.name
            assert "javascript" in answer.headers["content-type"]
            for spec in re.findall(r'^import .* from "([^"]+)";', answer.text, re.M):
                assert spec.startswith("./"), f"{script.name} imports {spec}"
    index = (STATIC / "index.html").read_text()
    assert not re.search(r'(src|href)="(https?:)?//', index)


def test_history_filters_and_full_text(setup: Setup, console, server: ServerProcess) -> None:
    group = setup.group()
    _, ann = working_operator(setup, group["id"])
    bot = setup.bot()
    word = f"parcel{uuid.uuid4().hex[:6]}"
    served, _ = served_chat(setup, group, ann, bot, topic="billing")
    waiting = hand_off(
        bot,
        group,
        topic="delivery",
        transcript=[{"author": "client", "text": f"where is my {word}"}],
    )
    page = console(server.admin_token, path="#/history")
    filters = page.get_by_role("form", name="History filters")
    filters.get_by_label("Group").select_option(group["id"])
    filters.get_by_role("button", name="Search").click()
    rows = page.locator("table.results tbody tr")
    expect(rows).to_have_count(2)

    def search(**fields: str) -> None:
        for label, value in fields.items():
            control = filters.get_by_label(label, exact=True)
            if control.evaluate("e => e.tagName") == "SELECT":
                control.select_option(value)
            else:
                control.fill(value)
        filters.get_by_role("button", name="Search").click()

    search(**{"Full text": word})
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", waiting["id"])
    expect(rows.first.locator(".headline")).to_contain_text(word)
    search(**{"Full text": "", "Topic": "billing"})
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", served["id"])
    search(**{"Topic": "", "Rating": "5", "Status": "closed"})
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", served["id"])
    search(**{"Rating": "", "Status": "", "Phone": waiting["client"]["phone"]})
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-id", waiting["id"])
    search(**{"Phone": "", "Status": "queued", "Topic": "billing"})
    expect(rows).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="0 chats")).to_be_visible()


def test_history_pages_with_more(setup: Setup, console, server: ServerProcess) -> None:
    group = setup.group()
    bot = setup.bot()
    for _ in range(52):
        hand_off(bot, group)
    page = console(server.admin_token, path="#/history")
    filters = page.get_by_role("form", name="History filters")
    filters.get_by_label("Group").select_option(group["id"])
    filters.get_by_role("button", name="Search").click()
    rows = page.locator("table.results tbody tr")
    expect(rows).to_have_count(50)
    page.get_by_role("button", name="More").click()
    expect(rows).to_have_count(52)
    expect(page.get_by_role("button", name="More")).to_be_hidden()
    assert len(set(rows.evaluate_all("rs => rs.map(r => r.dataset.id)"))) == 52


def test_the_analysts_report_draws_its_chart(setup: Setup, console, screenshots: Path) -> None:
    group = setup.group(sl_first_response_s=3600)
    _, ann = working_operator(setup, group["id"])
    _, rated_at = served_chat(setup, group, ann, setup.bot())
    # The report's read model has the rating before the analyst looks.
    ok(setup.admin.get("/v1/reports/sla", params={"min_position": rated_at}))
    analyst = setup.token("analyst")
    page = console(token_of(analyst), path="#/reports")
    expect(page.get_by_role("link", name="Reports")).to_have_attribute("aria-current", "page")
    page.get_by_label("Group").select_option(group["id"])
    page.get_by_role("button", name="Show").click()
    chart = page.locator("svg.sla-chart")
    bars = chart.locator("rect.bar.first[data-date]")
    expect(bars).to_have_count(1)
    expect(bars.first.locator("title")).to_contain_text("100% within SL (1/1)")
    assert float(bars.first.get_attribute("height")) > 100
    five = page.locator('svg.csat-chart rect[data-score="5"]')
    assert float(five.get_attribute("width")) > 100
    assert float(page.locator('svg.csat-chart rect[data-score="1"]').get_attribute("width")) == 0
    expect(page.locator(".kpis")).to_contain_text("100.0%")
    page.screenshot(path=screenshots / "analyst-report.png", full_page=True)


def test_admin_makes_a_group_and_an_operator_and_requires_a_topic_to_close(
    setup: Setup, console, server: ServerProcess, screenshots: Path
) -> None:
    page = console(server.admin_token, path="#/admin")
    name = f"console group {uuid.uuid4().hex[:8]}"
    page.get_by_label("Group name").fill(name)
    page.get_by_label("SL first response (s)").fill("30")
    page.get_by_role("button", name="Create group").click()
    expect(page.locator(".admin table").first).to_contain_text(name)
    group = next(g for g in ok(setup.admin.get("/v1/groups"))["items"] if g["name"] == name)
    assert group["sl_first_response_s"] == 30

    email = f"ann-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("First name").fill("Ann")
    page.get_by_label("Last name").fill("Console")
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("group", name="Groups").get_by_label(name).check()
    page.get_by_role("button", name="Create operator").click()
    secret = page.locator(".secret code").first
    expect(secret).to_be_visible()
    with httpx.Client(base_url=server.base_url, timeout=10) as http:
        me = ok(http.get("/v1/me", headers={"Authorization": f"Bearer {secret.inner_text()}"}))
    assert me["email"] == email and me["group_ids"] == [group["id"]]
    page.screenshot(path=screenshots / "admin.png", full_page=True)

    topic_box = page.get_by_label("require topic to close")
    topic_box.check()
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Settings saved.")).to_be_visible()
    try:
        assert ok(setup.admin.get("/v1/settings"))["require_topic_to_close"] is True
        _, ann = working_operator(setup, group["id"])
        chat = hand_off(setup.bot(), group, topic=None)
        operator_page = console(token_of(ann))
        card(operator_page, chat["id"]).get_by_role("button").click()
        pane = operator_page.locator(".chat-pane")
        pane.get_by_role("button", name="Intercept").click()
        expect(pane.get_by_role("textbox", name="Reply")).to_be_enabled()
        topic = pane.get_by_label("Topic (required to close)")
        expect(topic).to_be_visible()
        topic.fill("refund")
        pane.get_by_role("button", name="Close chat").click()
        expect(pane.locator(".closed-note")).to_be_visible()
        closed = ok(ann.get(f"/v1/chats/{chat['id']}"))
        assert (closed["status"], closed["topic"]) == ("closed", "refund")
    finally:
        ok(setup.admin.put("/v1/settings", json={"require_topic_to_close": False}))


def test_serve_prints_the_consoles_address(server: ServerProcess) -> None:
    process = ServerProcess(server.database_url, server.workdir)
    process.port = free_port()
    command = [str(SWITCHBOARD), "serve", "--host", "127.0.0.1", "--port", str(process.port)]
    with (
        open(process.stderr_path, "wb") as stderr,
        subprocess.Popen(
            command, env=process.env(), cwd=server.workdir, stdout=subprocess.PIPE, stderr=stderr
        ) as serving,
    ):
        process.process = serving
        try:
            first = serving.stdout.readline().decode()
            # Stopped once it serves: a signal in the middle of start-up is not this test's.
            process._wait_healthy()
        finally:
            if process.process is not None:
                stop_cleanly(process)
    assert first.strip().endswith(f"http://127.0.0.1:{process.port}/console/")
