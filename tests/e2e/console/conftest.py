"""The operator console in a real browser: Debian's chromium driven by Playwright for Python.

The browser is the system's (``chromium`` on the PATH), never one Playwright downloads. Without
one, these tests skip locally and fail under CI (``CI`` set), where ``.ci/run`` installs it.
Until sign-in by password exists, a test puts the token into the page's sessionStorage before
the console's scripts run (``add_init_script``), where sign-in would have put it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ServerProcess, Setup, position

BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Generous: the machine running the suite may be busy; expectations return as soon as met.
EXPECT_TIMEOUT_MS = 15_000


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests need {reason} under CI")
    pytest.skip(f"no {reason}: browser tests skipped (they are required under CI)")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        _unavailable("chromium on the PATH")
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[object]:
    """The browser, for one module: Playwright's sync API keeps an event loop running while
    it is started, which would break later tests that call ``asyncio.run``."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _unavailable("Playwright for Python")
    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=BROWSER_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests save screenshots of the main screens (under pytest's basetemp)."""
    folder = tmp_path_factory.getbasetemp() / "console-screenshots"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def console(browser, server: ServerProcess) -> Iterator[Callable[..., object]]:
    """``console(token, viewport=WIDE, path="")``: a page of the console signed in as that
    token, in a browser context of its own."""
    contexts = []

    def open_console(token: str, viewport: dict[str, int] = WIDE, path: str = ""):
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        context.set_default_timeout(EXPECT_TIMEOUT_MS)
        context.add_init_script(
            f"sessionStorage.setItem('switchboard.token', {json.dumps(token)});"
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.console_errors = errors
        page.goto(f"{server.base_url}/console/{path}")
        return page

    yield open_console
    for context in contexts:
        for page in context.pages:
            assert not page.console_errors, f"the console threw: {page.console_errors}"
        context.close()


def token_of(client) -> str:
    return client.headers["Authorization"].removeprefix("Bearer ")


def working_operator(setup: Setup, *group_ids: str, **fields: Any) -> tuple[dict, httpx.Client]:
    """A new operator of these groups, working, once routing can see them working.

    Routing ranks operators from the directory read model (and checks the one it picks on
    the aggregate): until the directory has the status, a handoff may go to someone else.
    """
    operator, client = setup.operator(*group_ids, working=False, **fields)
    answer = client.put(f"/v1/operators/{operator['id']}/status", json={"status": "working"})
    assert answer.status_code == 200, answer.text
    wanted = {"limit": 1, "min_position": position(answer)}
    for _ in range(40):  # each try waits on the server, up to its read wait (504 after it)
        seen = setup.admin.get("/v1/operators", params=wanted)
        if seen.status_code != 504:
            break
    assert seen.status_code == 200, seen.text
    return answer.json(), client
