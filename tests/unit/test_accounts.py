"""Staff accounts on the in-memory store: invitations, passwords, sessions, the throttle,
deactivation, and authentication's cache following the log."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from application.auth import Principal, hash_token
from application.errors import BadCredentials, Forbidden, NotFound, TooManyAttempts
from domain.access import ApiToken
from domain.account import Account, Invitation
from domain.errors import InvalidValue, InvitationExpired, OperatorDeactivated, WrongPassword
from domain.throttle import LIMIT, WINDOW, seconds_to_wait
from tests.clock import FakeClock
from tests.unit.helpers import ADMIN, BOT, handoff, operator

PASSWORD = "correct horse battery"


def enrol(app, email: str = "anna@example.com", **fields):
    return app.enrol_operator(
        actor=ADMIN.actor, first_name="Anna", last_name="Lee", email=email, **fields
    ).value


def signed_up(app, email: str = "anna@example.com", **fields):
    enrolled = enrol(app, email, **fields)
    signed_in = app.accept_invitation(enrolled.invite.code, PASSWORD).value
    return enrolled, signed_in


# -- invitations ------------------------------------------------------------------------------


def test_an_invitation_is_accepted_once_and_gives_a_session(app, clock):
    enrolled = enrol(app)
    signed_in = app.accept_invitation(enrolled.invite.code, PASSWORD).value

    assert signed_in.operator.id == enrolled.operator.id
    assert signed_in.expires_at == clock.now() + timedelta(hours=12)
    principal = app.authenticate(signed_in.token)
    assert principal.operator_id == enrolled.operator.id and principal.session
    with pytest.raises(InvitationExpired):
        app.accept_invitation(enrolled.invite.code, "another password")


def test_an_invitation_expires(app, clock):
    enrolled = enrol(app)
    assert enrolled.invite.expires_at == clock.now() + timedelta(hours=72)
    clock.advance(hours=72)
    with pytest.raises(InvitationExpired):
        app.accept_invitation(enrolled.invite.code, PASSWORD)


def test_a_new_invitation_replaces_the_one_before(app):
    enrolled = enrol(app)
    newer = app.invite(enrolled.operator.id, actor=ADMIN.actor).value
    with pytest.raises(InvitationExpired):
        app.accept_invitation(enrolled.invite.code, PASSWORD)
    app.accept_invitation(newer.code, PASSWORD)


def test_an_unknown_code_is_expired(app):
    with pytest.raises(InvitationExpired):
        app.accept_invitation("inv_nothing", PASSWORD)


@pytest.mark.parametrize("password", ["", "x" * 9, "x" * 1001])
def test_a_password_has_ten_to_a_thousand_characters(app, password):
    with pytest.raises(InvalidValue):
        app.accept_invitation(enrol(app).invite.code, password)


def test_only_hashes_are_kept_in_the_log(app):
    enrolled, _ = signed_up(app)
    stored = [
        repr(app.mapper.to_domain_event(record))
        for record in app.recorder.select_events(Account.id_for(enrolled.operator.id))
    ]
    stored += [repr(n) for n in app.recorder.select_notifications(start=None, limit=10**6)]
    assert not any(PASSWORD in text or enrolled.invite.code in text for text in stored)
    account = app.repository.get(Account.id_for(enrolled.operator.id))
    assert account.password_hash.startswith("$argon2")


def test_an_account_keeps_only_argon2_hashes():
    account = Account.open(operator_id=uuid4(), at=FakeClock().now(), actor="admin:a")
    with pytest.raises(InvalidValue):
        account.set_password(PASSWORD, at=FakeClock().now(), actor="admin:a")


def test_an_invitation_for_someone_else_is_refused():
    at = FakeClock().now()
    invitation = Invitation.issue(
        code_hash="h", operator_id=uuid4(), at=at, expires_at=at + WINDOW, actor="a"
    )
    other = Account.open(operator_id=uuid4(), at=at, actor="a")
    other.invite(invitation.id, at=at, actor="a")
    with pytest.raises(InvitationExpired):
        invitation.accept(account=other, at=at, actor="a")


# -- signing in -------------------------------------------------------------------------------


def test_sign_in_with_the_password(app):
    enrolled, _ = signed_up(app)
    signed_in = app.sign_in("  ANNA@example.com ", PASSWORD).value
    assert app.authenticate(signed_in.token).operator_id == enrolled.operator.id


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("anna@example.com", "not the password"),
        ("nobody@example.com", PASSWORD),
        ("ben@example.com", PASSWORD),  # never set a password
    ],
)
def test_bad_credentials_are_one_error(app, email, password):
    signed_up(app)
    enrol(app, "ben@example.com")
    with pytest.raises(BadCredentials):
        app.sign_in(email, password)


def test_more_than_five_failures_wait(app, clock):
    signed_up(app)
    for _ in range(LIMIT):
        with pytest.raises(BadCredentials):
            app.sign_in("anna@example.com", "wrong password")
        clock.advance(minutes=1)
    with pytest.raises(TooManyAttempts) as refused:
        app.sign_in("anna@example.com", PASSWORD)
    # The first failure, four minutes ago + 1, leaves the window in 15 - 5 minutes.
    assert refused.value.retry_after_s == pytest.approx(10 * 60)
    assert refused.value.headers == {"Retry-After": "600"}
    clock.advance(minutes=10)
    app.sign_in("anna@example.com", PASSWORD)


def test_a_success_clears_the_failures(app):
    signed_up(app)
    for _ in range(LIMIT - 1):
        with pytest.raises(BadCredentials):
            app.sign_in("anna@example.com", "wrong password")
    app.sign_in("anna@example.com", PASSWORD)
    for _ in range(LIMIT):
        with pytest.raises(BadCredentials):
            app.sign_in("anna@example.com", "wrong password")


@given(
    st.lists(st.integers(min_value=-3600, max_value=0), max_size=12),
    st.integers(min_value=1, max_value=8),
)
def test_the_throttle_waits_exactly_until_an_attempt_is_allowed(offsets, limit):
    now = FakeClock().now()
    failures = [now + timedelta(seconds=s) for s in offsets]
    wait = seconds_to_wait(failures, now, limit=limit)
    in_window = sum(1 for f in failures if now - WINDOW < f)
    assert (wait == 0) == (in_window < limit)
    if wait:
        later = now + timedelta(seconds=wait)
        assert seconds_to_wait(failures, later, limit=limit) == 0
        earlier = later - timedelta(seconds=0.01)
        assert seconds_to_wait(failures, earlier, limit=limit) > 0


# -- sessions ---------------------------------------------------------------------------------


def test_a_session_expires(app, clock):
    _, signed_in = signed_up(app)
    clock.advance(hours=12)
    assert app.authenticate(signed_in.token) is None


def test_a_session_ends_after_auto_logout_without_activity(app, clock):
    _, signed_in = signed_up(app, auto_logout_s=60)
    clock.advance(seconds=50)
    assert app.authenticate(signed_in.token) is not None  # a read is no activity
    clock.advance(seconds=20)
    assert app.authenticate(signed_in.token) is None


def test_actions_and_heartbeats_keep_a_session_alive(app, clock):
    _, signed_in = signed_up(app, auto_logout_s=60)
    for _ in range(3):
        clock.advance(seconds=50)
        assert app.authenticate(signed_in.token, acting=True) is not None
    for _ in range(3):
        clock.advance(seconds=50)
        app.heartbeat(app.authenticate(signed_in.token))
    clock.advance(seconds=61)
    assert app.authenticate(signed_in.token) is None


def test_signing_out_ends_the_session_only(app):
    enrolled, signed_in = signed_up(app)
    app.sign_out(app.authenticate(signed_in.token))
    assert app.authenticate(signed_in.token) is None
    assert app.authenticate(enrolled.token) is not None
    with pytest.raises(Forbidden):
        app.sign_out(app.authenticate(enrolled.token))  # not a session


def test_a_revoked_token_stops_although_cached(app):
    token = app.issue_token(role="bot", name="webbot", operator_id=None, actor=ADMIN.actor).value
    assert app.authenticate(token.token) == BOT
    app.revoke_token(ApiToken.id_for_hash(hash_token(token.token)), actor=ADMIN.actor)
    assert app.authenticate(token.token) is None
    with pytest.raises(NotFound):
        app.revoke_token(ApiToken.id_for_hash(hash_token(token.token)), actor=ADMIN.actor)


def test_a_change_of_role_is_seen_at_once(app):
    enrolled, signed_in = signed_up(app)
    assert app.authenticate(signed_in.token).role == "operator"
    app.update_operator(enrolled.operator.id, actor=ADMIN.actor, role="supervisor")
    assert app.authenticate(signed_in.token).role == "supervisor"


# -- oneself ----------------------------------------------------------------------------------


def test_an_operator_changes_names_and_password(app):
    _, signed_in = signed_up(app)
    me = app.authenticate(signed_in.token)
    app.update_me(me, first_name="Ann", password="a new password", current_password=PASSWORD)
    assert app.get_operator(me.operator_id).first_name == "Ann"
    with pytest.raises(BadCredentials):
        app.sign_in("anna@example.com", PASSWORD)
    app.sign_in("anna@example.com", "a new password")
    with pytest.raises(WrongPassword):
        app.update_me(me, password="yet another one", current_password=PASSWORD)
    with pytest.raises(Forbidden):
        app.update_me(BOT, first_name="Bot")


def test_nothing_to_change_records_nothing(app):
    _, signed_in = signed_up(app)
    assert not app.update_me(app.authenticate(signed_in.token), first_name="Anna").recorded


# -- deactivation -----------------------------------------------------------------------------


def test_deactivation_locks_out_and_routes_the_chats_again(app, sales):
    leaving = operator(app, "leaving@example.com", sales, max_chats=2)
    chat = handoff(app, "conv-1", sales)
    assert chat.operator_id == leaving.operator_id
    staying = operator(app, "staying@example.com", sales)

    done = app.deactivate(leaving.operator_id, caller=ADMIN)

    assert done.value.status == "offline" and not done.value.active and done.value.load == 0
    assert app.get_chat(chat.id).operator_id == staying.operator_id
    with pytest.raises(BadCredentials):
        app.sign_in("leaving@example.com", PASSWORD)
    with pytest.raises(OperatorDeactivated):
        app.invite(leaving.operator_id, actor=ADMIN.actor)
    assert not app.deactivate(leaving.operator_id, caller=ADMIN).recorded


def test_tokens_made_before_a_deactivation_stay_dead(app, clock):
    enrolled, signed_in = signed_up(app)
    clock.advance(minutes=1)
    app.deactivate(enrolled.operator.id, caller=ADMIN)
    assert app.authenticate(enrolled.token) is None
    assert app.authenticate(signed_in.token) is None
    clock.advance(minutes=1)
    assert app.reactivate(enrolled.operator.id, actor=ADMIN.actor).recorded
    assert app.authenticate(enrolled.token) is None
    assert app.authenticate(signed_in.token) is None
    again = app.sign_in("anna@example.com", PASSWORD).value
    assert app.authenticate(again.token) == Principal(
        "operator", "anna@example.com", enrolled.operator.id
    )
    assert not app.reactivate(enrolled.operator.id, actor=ADMIN.actor).recorded


def test_a_heartbeat_keeps_a_working_operator_from_absent(app, clock):
    anna = operator(app, "anna@example.com")
    started = clock.now()
    clock.advance(minutes=20)
    app.heartbeat(anna)
    clock.advance(minutes=5)
    assert not app.mark_absent_if_idle(anna.operator_id, started, default_s=15 * 60).value
    clock.advance(minutes=11)
    assert app.mark_absent_if_idle(anna.operator_id, started, default_s=15 * 60).value
