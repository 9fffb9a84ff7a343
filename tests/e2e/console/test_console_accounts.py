"""Staff accounts in the browser: an invitation, a password, signing in and out, the throttle,
the heartbeat, and an admin ending someone's session."""

from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from tests.e2e.conftest import ServerProcess, Setup, position
from tests.e2e.console.conftest import EXPECT_TIMEOUT_MS, WIDE

PASSWORD = "correct horse battery"
AUTO_LOGOUT_S = 3
HEARTBEAT_MS = 15_000  # the console's heartbeat interval (main.js)
# Polled by the page (a predicate's promise would count as true at once): asks the server
# whether the idle session still works, one question at a time, once the time has come.
IDLE_ENDED = """({ token, after }) => {
  if (Date.now() < after) return false;
  if (!window.asking) {
    window.asking = fetch("/v1/me", { headers: { Authorization: `Bearer ${token}` } })
      .then((answer) => { window.ended = answer.status === 401; window.asking = null; });
  }
  return window.ended === true;
}"""


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
    form = page.get_by_role("form", name="Sign in", exact=True)
    form.get_by_label("E-mail").fill(email)
    form.get_by_label("Password").fill(password)
    form.get_by_role("button", name="Sign in", exact=True).click()


def invite_through_admin_screen(
    browser, server, setup: Setup, contexts: list, group: dict, email: str
) -> str:
    """The admin signs in with the server's admin token and makes an operator on the Admin
    screen; the invitation link it shows."""
    admin = blank_page(browser, server, contexts)
    admin.get_by_text("Sign in with a token").click()
    tokens = admin.get_by_role("form", name="Sign in with a token")
    tokens.get_by_label("Token").fill(server.admin_token)
    tokens.get_by_role("button", name="Use this token").click()
    expect(admin.locator(".who")).to_contain_text("(admin)")
    admin.get_by_role("link", name="Admin").click()
    form = admin.locator("form.create-operator")
    form.get_by_label("First name").fill("Ivy")
    form.get_by_label("Last name").fill(f"Invited{setup.suffix}")
    form.get_by_label("E-mail").fill(email)
    form.get_by_label(group["name"]).check()
    form.get_by_role("button", name="Create operator").click()
    link = admin.locator(".invite-link")
    expect(link).to_contain_text("#/invite/")
    return link.inner_text()


def test_invitation_password_sign_out_and_sign_in(
    browser, server, setup: Setup, console, screenshots
) -> None:
    contexts: list = []
    group = setup.group()
    email = f"ivy-{uuid.uuid4().hex[:10]}@example.com"
    link = invite_through_admin_screen(browser, server, setup, contexts, group, email)
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
    expect(page.get_by_role("form", name="Sign in", exact=True)).to_be_visible()
    page.screenshot(path=str(screenshots / "console-sign-in.png"))
    sign_in(page, email, PASSWORD)
    expect(page.get_by_role("tab", name="Mine")).to_be_visible()
    expect(page.locator(".who")).to_contain_text("(operator)")
    # A used invitation is refused, and says so.
    again = blank_page(browser, server, contexts, path=None)
    again.goto(link)
    again.get_by_label("Choose a password").fill("another password")
    again.get_by_role("button", name="Set password and sign in").click()
    expect(
        again.get_by_role("form", name="Accept the invitation").locator(".notice")
    ).to_contain_text("used or has expired")
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
    form = page.get_by_role("form", name="Sign in", exact=True)
    sign_in(page, operator["email"], "not the password")
    expect(form.locator(".notice")).to_have_text("Wrong e-mail or password.")
    # More than five failures within the window: the throttle answers, with its wait.
    for _ in range(6):
        sign_in(page, operator["email"], "still not it")
        expect(form.get_by_role("button", name="Sign in", exact=True)).to_be_enabled()
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


def operator_with_password(setup: Setup, **fields) -> dict:
    """A new operator who has set a password, holding no token or session at all."""
    operator, _ = setup.operator(setup.group()["id"], working=False, **fields)
    code = setup.admin.post(f"/v1/operators/{operator['id']}/invite")
    assert code.status_code == 201, code.text
    accepted = setup.make_client().post(
        f"/v1/invitations/{code.json()['invite_code']}/accept", json={"password": PASSWORD}
    )
    assert accepted.status_code == 200, accepted.text
    for token in tokens_of(setup, operator["id"]):
        assert setup.admin.delete(f"/v1/tokens/{token['id']}").status_code == 204
    return operator


def tokens_of(setup: Setup, operator_id: str) -> list[dict]:
    """The operator's tokens, as listed once everything written so far is in the list: a
    command made now answers with a position at or past every earlier one."""
    made = setup.admin.post("/v1/groups", json={"name": f"mark {uuid.uuid4().hex}"})
    assert made.status_code == 201, made.text
    listed = setup.admin.get("/v1/tokens", params={"limit": 500, "min_position": position(made)})
    assert listed.status_code == 200, listed.text
    return [t for t in listed.json()["items"] if t["operator_id"] == operator_id]


def signed_in_console(browser, server, setup: Setup, contexts: list, operator: dict):
    page = blank_page(browser, server, contexts)
    sign_in(page, operator["email"], PASSWORD)
    expect(page.get_by_role("tab", name="Mine")).to_be_visible()
    return page


def test_an_open_console_keeps_its_session_alive_with_heartbeats(
    browser, server, setup: Setup
) -> None:
    """A session ends after the operator's auto_logout_s without an action or a heartbeat;
    reads do not count. An open console, left alone, posts heartbeats and stays signed in
    while a session opened next to it, with no screen, ends."""
    contexts: list = []
    operator = operator_with_password(setup, auto_logout_s=AUTO_LOGOUT_S)
    page = signed_in_console(browser, server, setup, contexts, operator)
    # By then, a session with neither an action nor a heartbeat since its start has ended.
    after = (time.time() + AUTO_LOGOUT_S + 1) * 1000
    console_token = page.evaluate("sessionStorage.getItem('switchboard.token')")
    started = setup.make_client().post(
        "/v1/sessions", json={"email": operator["email"], "password": PASSWORD}
    )
    assert started.status_code == 201, started.text
    # Wait (polling from another page) until then, and until the idle session has ended.
    watcher = blank_page(browser, server, contexts)
    watcher.wait_for_function(
        IDLE_ENDED,
        arg={"token": started.json()["token"], "after": after},
        polling=500,
        timeout=60_000,
    )
    ended = datetime.now(UTC)
    assert setup.make_client(console_token).get("/v1/me").status_code == 200
    expect(page.get_by_role("tab", name="Mine")).to_be_visible()
    expect(page.get_by_role("form", name="Sign in", exact=True)).to_have_count(0)
    # The server saw the heartbeats: the console's session was used after the other ended.
    # (The list still shows the ended one until it expires; the console's is the older.)
    session = min(tokens_of(setup, operator["id"]), key=lambda t: t["created_at"])
    assert datetime.fromisoformat(session["last_used_at"]) > ended - timedelta(seconds=2)
    close_all(contexts)


def test_revoking_a_session_sends_the_open_console_to_sign_in(
    browser, server, setup: Setup, console
) -> None:
    contexts: list = []
    operator = operator_with_password(setup)
    page = blank_page(browser, server, contexts, path=None)
    page.clock.install()  # the heartbeat's interval is run on at will below
    page.goto(f"{server.base_url}/console/")
    sign_in(page, operator["email"], PASSWORD)
    expect(page.get_by_role("tab", name="Mine")).to_be_visible()
    (session,) = tokens_of(setup, operator["id"])

    admin = console(setup.admin.headers["Authorization"].removeprefix("Bearer "), path="#/admin")
    revoke = admin.get_by_role("button", name=f"Revoke token {operator['email']}")
    revoke.click()
    expect(revoke).to_have_count(0)
    assert tokens_of(setup, operator["id"]) == []

    page.clock.fast_forward(HEARTBEAT_MS)
    expect(page.get_by_role("form", name="Sign in", exact=True)).to_be_visible()
    expect(page.get_by_role("form", name="Sign in", exact=True)).to_contain_text(
        "Your session has ended"
    )
    assert session["id"]
    close_all(contexts)


def test_deactivate_reactivate_and_a_new_invitation_link(
    browser, server, setup: Setup, console
) -> None:
    contexts: list = []
    operator = operator_with_password(setup)
    name = f"{operator['first_name']} {operator['last_name']}"
    page = blank_page(browser, server, contexts, path=None)
    page.clock.install()
    page.goto(f"{server.base_url}/console/")
    sign_in(page, operator["email"], PASSWORD)
    expect(page.get_by_role("tab", name="Mine")).to_be_visible()

    admin = console(setup.admin.headers["Authorization"].removeprefix("Bearer "), path="#/admin")
    admin.get_by_role("button", name=f"Deactivate {name}").click()
    expect(admin.locator(".admin .notice.ok")).to_contain_text(f"{name} is deactivated")
    page.clock.fast_forward(HEARTBEAT_MS)
    form = page.get_by_role("form", name="Sign in", exact=True)
    expect(form).to_contain_text("Your session has ended")
    sign_in(page, operator["email"], PASSWORD)
    expect(form.locator(".notice")).to_have_text("Wrong e-mail or password.")

    admin.get_by_role("button", name=f"Reactivate {name}").click()
    expect(admin.locator(".admin .notice.ok")).to_contain_text(f"{name} may sign in again")
    sign_in(page, operator["email"], PASSWORD)
    expect(page.get_by_role("tab", name="Mine")).to_be_visible()

    # A new invitation link (how a forgotten password is reset) sets another password.
    admin.get_by_role("button", name=f"New invitation link for {name}").click()
    link = admin.locator(".invite-link")
    expect(link).to_contain_text("#/invite/")
    fresh = blank_page(browser, server, contexts, path=None)
    fresh.goto(link.inner_text())
    fresh.get_by_label("Choose a password").fill("a brand new password")
    fresh.get_by_role("button", name="Set password and sign in").click()
    expect(fresh.get_by_role("tab", name="Mine")).to_be_visible()
    close_all(contexts)
