"""Staff accounts in the browser: an invitation, a password, signing in and out, the throttle,
the heartbeat, and an admin ending someone's session."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import ServerProcess, Setup
from tests.e2e.console.conftest import EXPECT_TIMEOUT_MS, WIDE

PASSWORD = "correct horse battery"


def blank_page(browser, server: ServerProcess, contexts: list, path: str = ""):
    """A page of the console in a context of its own, with no token."""
    context = browser.new_context(viewport=WIDE)
    contexts.append(context)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    if path is not None:
        page.goto(f"{server.base_url}/console/{path}")
    return page


def sign_in(page, email: str, password: str) -> None:
    form = page.get_by_role("form", name="Sign in")
    form.get_by_label("E-mail").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in").click()


def invite_through_admin_screen(console, setup: Setup, group: dict, email: str) -> str:
    """The admin makes an operator on the Admin screen; the invitation link it shows."""
    admin = console(setup.admin.headers["Authorization"].removeprefix("Bearer "), path="#/admin")
    form = admin.locator("form.create-operator")
    form.get_by_label("First name").fill("Ivy")
    form.get_by_label("Last name").fill(f"Invited{setup.suffix}")
    form.get_by_label("E-mail").fill(email)
    form.get_by_label(group["name"]).check()
    form.get_by_role("button", name="Create operator").click()
    link = admin.locator(".invite-link")
    expect(link).to_contain_text("#/invite/")
    return link.inner_text()


def test_invitation_password_sign_out_and_sign_in(browser, server, setup: Setup, console,
                                                  screenshots) -> None:
    contexts: list = []
    group = setup.group()
    email = f"ivy-{uuid.uuid4().hex[:10]}@example.com"
    link = invite_through_admin_screen(console, setup, group, email)
    assert link.startswith(f"{server.base_url}/console/#/invite/")

    page = blank_page(browser, server, contexts, path=None)
    page.goto(link)
    form = page.get_by_role("form", name="Accept the invitation")
    form.get_by_label("Choose a password").fill(PASSWORD)
    form.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("tab", name="Mine")).to_be_visible()
    expect(page.locator(".who")).to_contain_text(f"Ivy Invited{setup.suffix}")
    expect(page).not_to_have_url(re.compile("invite"))

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("form", name="Sign in")).to_be_visible()
    page.screenshot(path=str(screenshots / "console-sign-in.png"))
    sign_in(page, email, PASSWORD)
    expect(page.get_by_role("tab", name="Mine")).to_be_visible()
    expect(page.locator(".who")).to_contain_text("(operator)")
    # A used invitation is refused, and says so.
    again = blank_page(browser, server, contexts, path=None)
    again.goto(link)
    again.get_by_label("Choose a password").fill("another password")
    again.get_by_role("button", name="Set password and sign in").click()
    expect(again.get_by_role("form", name="Accept the invitation").locator(".notice")) \
        .to_contain_text("used or has expired")
    close_all(contexts)


def test_wrong_password_then_too_many_attempts(browser, server, setup: Setup) -> None:
    contexts: list = []
    operator, _ = setup.operator(setup.group()["id"], working=False)
    code = setup.admin.post(f"/v1/operators/{operator['id']}/invite")
    assert code.status_code == 201, code.text
    accepted = setup.make_client().post(
        f"/v1/invitations/{code.json()['invite_code']}/accept", json={"password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text

    page = blank_page(browser, server, contexts)
    form = page.get_by_role("form", name="Sign in")
    sign_in(page, operator["email"], "not the password")
    expect(form.locator(".notice")).to_have_text("Wrong e-mail or password.")
    # More than five failures within the window: the throttle answers, with its wait.
    for _ in range(6):
        sign_in(page, operator["email"], "still not it")
        expect(form.get_by_role("button", name="Sign in")).to_be_enabled()
    expect(form.locator(".notice")).to_have_text(
        re.compile(r"Too many failed attempts\. Try again in \d+ (seconds?|minutes?)\.")
    )
    # The right password is refused too while the wait lasts.
    sign_in(page, operator["email"], PASSWORD)
    expect(form.locator(".notice")).to_contain_text("Too many failed attempts")
    expect(page.get_by_role("tab", name="Mine")).to_have_count(0)
    close_all(contexts)


def close_all(contexts: list) -> None:
    for context in contexts:
        for page in context.pages:
            assert not page.console_errors, f"the console threw: {page.console_errors}"
        context.close()
