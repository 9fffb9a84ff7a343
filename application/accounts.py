"""Use cases of staff accounts: invitations, signing in and out, one's own profile and
password, the heartbeat, deactivation and reactivation, revoking tokens.

Audit-worthy facts are events (an invitation made or accepted, a password set, a session
started or ended, an operator deactivated); hot ones (failed sign-ins, last use, heartbeats)
go to ``self.access``, a plain table shared by every process.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from application.auth import Principal, hash_token, new_token
from application.base import SwitchboardBase
from application.errors import BadCredentials, Forbidden, NotFound, TooManyAttempts
from application.ports import Done
from application.retry import retry_on_conflict
from domain.access import ApiToken
from domain.account import Account, Invitation, check_password
from domain.actors import operator_actor
from domain.errors import ChatClosed, InvitationExpired, WrongPassword
from domain.operator import Operator
from domain.reservation import Reservation
from domain.throttle import WINDOW, seconds_to_wait

INVITE_PREFIX = "inv_"
EMAIL = "email"  # the kind of the e-mail reservations (see ``application.staff``)


def email_key(email: str) -> str:
    return email.strip().lower()


@dataclass(frozen=True)
class InviteCode:
    code: str
    expires_at: datetime


@dataclass(frozen=True)
class SignedIn:
    token: str
    expires_at: datetime
    operator: Operator


def open_invitation(
    account: Account | None, operator_id: UUID, *, at: datetime, expires_at: datetime, actor: str
) -> tuple[InviteCode, Account, Invitation]:
    """A new code for ``operator_id`` (unsaved); it replaces any earlier one."""
    code = INVITE_PREFIX + secrets.token_urlsafe(24)
    invitation = Invitation.issue(
        code_hash=hash_token(code),
        operator_id=operator_id,
        at=at,
        expires_at=expires_at,
        actor=actor,
    )
    account = account or Account.open(operator_id=operator_id, at=at, actor=actor)
    account.invite(invitation.id, at=at, actor=actor)
    return InviteCode(code, expires_at), account, invitation


class AccountCommands(SwitchboardBase):
    # -- invitations --------------------------------------------------------------------------

    @retry_on_conflict
    def invite(self, operator_id: UUID, *, actor: str) -> Done[InviteCode]:
        """A new invitation code (also how a forgotten password is reset)."""
        operator = self._get(Operator, operator_id)
        operator.check_active()
        at = self.clock.now()
        code, account, invitation = open_invitation(
            self._find(Account, Account.id_for(operator_id)),
            operator_id,
            at=at,
            expires_at=at + self.policy.invite_ttl,
            actor=actor,
        )
        return Done(code, self._saved(account, invitation))

    def accept_invitation(self, code: str, password: str) -> Done[SignedIn]:
        check_password(password)
        invitation = self._find(Invitation, Invitation.id_for_hash(hash_token(code)))
        if invitation is None:
            raise InvitationExpired("no such invitation")
        # Hashed once, outside the retried part: argon2 is slow by design.
        return self._accept(invitation.id, self.passwords.hash(password))

    @retry_on_conflict
    def _accept(self, invitation_id: UUID, password_hash: str) -> Done[SignedIn]:
        invitation = self._get(Invitation, invitation_id)
        account = self._get(Account, Account.id_for(invitation.operator_id))
        operator = self._get(Operator, invitation.operator_id)
        if not operator.active:
            raise InvitationExpired("the operator has been deactivated")
        at, actor = self.clock.now(), operator_actor(operator.id)
        invitation.accept(account=account, at=at, actor=actor)
        account.set_password(password_hash, at=at, actor=actor)
        signed_in, session = self._session(operator, at)
        return Done(signed_in, self._saved(invitation, account, session))

    # -- signing in and out -------------------------------------------------------------------

    def sign_in(self, email: str, password: str) -> Done[SignedIn]:
        """A session for the operator with this e-mail and password.

        An unknown e-mail, a wrong password, an operator without a password or deactivated:
        all are the same ``BadCredentials``, after the same argon2 work. Each attempt counts
        as a failure until it succeeds, so concurrent guesses in many processes are counted.
        """
        key, now = email_key(email), self.clock.now()
        wait = self.access.attempt(
            key, at=now, since=now - WINDOW, wait=lambda failures: seconds_to_wait(failures, now)
        )
        if wait:
            raise TooManyAttempts(wait)
        operator, account = self._account_of(key)
        password_hash = account.password_hash if account is not None else None
        if not self.passwords.verify(password_hash, password) or operator is None:
            raise BadCredentials("wrong e-mail or password")
        self.access.forget(key)
        return self._start_session(operator.id)

    def _account_of(self, key: str) -> tuple[Operator | None, Account | None]:
        reservation = self._find(Reservation, Reservation.id_for(EMAIL, key))
        if reservation is None or reservation.is_free:
            return None, None
        operator = self._find(Operator, reservation.owner_id)
        if operator is None or not operator.active:
            return None, None
        return operator, self._find(Account, Account.id_for(operator.id))

    @retry_on_conflict
    def _start_session(self, operator_id: UUID) -> Done[SignedIn]:
        operator = self._get(Operator, operator_id)
        signed_in, session = self._session(operator, self.clock.now())
        return Done(signed_in, self._saved(session))

    def _session(self, operator: Operator, at: datetime) -> tuple[SignedIn, ApiToken]:
        secret = new_token()
        session = ApiToken.start_session(
            token_hash=hash_token(secret),
            role=operator.role,
            name=operator.email,
            operator_id=operator.id,
            at=at,
            expires_at=at + self.policy.session_ttl,
            actor=operator_actor(operator.id),
        )
        return SignedIn(secret, session.expires_at, operator), session

    def sign_out(self, caller: Principal) -> Done[None]:
        if not caller.session or caller.token_id is None:
            raise Forbidden("this token is not a session: DELETE /v1/tokens/{id} revokes it")
        return self.revoke_token(caller.token_id, actor=caller.actor)

    @retry_on_conflict
    def revoke_token(self, token_id: UUID, *, actor: str) -> Done[None]:
        token = self._get(ApiToken, token_id)
        if token.revoked:
            raise NotFound(f"token {token_id} is revoked")
        token.revoke(at=self.clock.now(), actor=actor)
        return Done(None, self._saved(token))

    # -- oneself ------------------------------------------------------------------------------

    def update_me(
        self,
        caller: Principal,
        *,
        password: str | None = None,
        current_password: str | None = None,
        **names: str,
    ) -> Done[Operator]:
        """Change one's own names and, given the current one, one's password."""
        operator_id = self._own_operator(caller)
        password_hash = None
        if password is not None:
            check_password(password)
            account = self._find(Account, Account.id_for(operator_id))
            current = account.password_hash if account is not None else None
            if not self.passwords.verify(current, current_password or ""):
                raise WrongPassword("current_password does not match")
            password_hash = self.passwords.hash(password)
        return self._update_me(operator_id, caller.actor, password_hash, names)

    @retry_on_conflict
    def _update_me(
        self, operator_id: UUID, actor: str, password_hash: str | None, names: dict[str, str]
    ) -> Done[Operator]:
        operator = self._get(Operator, operator_id)
        at = self.clock.now()
        changed = operator.update_profile(at=at, actor=actor, **names)
        account = None
        if password_hash is not None:
            account = self._find(Account, Account.id_for(operator_id))
            account = account or Account.open(operator_id=operator_id, at=at, actor=actor)
            account.set_password(password_hash, at=at, actor=actor)
        if not changed and account is None:
            return Done(operator, self.head(), recorded=False)
        return Done(operator, self._saved(operator, account))

    def heartbeat(self, caller: Principal) -> None:
        """The operator's screen is open: presence for the scheduler, activity for the
        session (no event: this is written every few seconds by every open screen)."""
        operator_id = self._own_operator(caller)
        now = self.clock.now()
        self.access.heartbeat(operator_id, now)
        if caller.token_id is not None:
            self.access.touch(caller.token_id, now, active=True)

    def _own_operator(self, caller: Principal) -> UUID:
        if caller.operator_id is None:
            raise Forbidden("this token belongs to no operator")
        return caller.operator_id

    # -- deactivation -------------------------------------------------------------------------

    def deactivate(self, operator_id: UUID, *, caller: Principal) -> Done[Operator]:
        """Lock the operator out (every token and session, in every process, at once), set
        them offline, and send each chat they hold back to routing in its group.

        Repeating it finishes what an interrupted run left: chats still held are sent on.
        """
        done = self._lock_out(operator_id, caller.actor)
        position = done.position
        for chat_id in list(done.value.chat_ids):
            try:
                position = self.reassign(chat_id, caller=caller).position  # MoveCommands
            except (ChatClosed, NotFound):
                continue  # closed or gone meanwhile: nothing to send on
        return Done(self._get(Operator, operator_id), position, done.recorded)

    @retry_on_conflict
    def _lock_out(self, operator_id: UUID, actor: str) -> Done[Operator]:
        operator = self._get(Operator, operator_id)
        if not operator.deactivate(at=self.clock.now(), actor=actor):
            return Done(operator, self.head(), recorded=False)
        return Done(operator, self._saved(operator))

    @retry_on_conflict
    def reactivate(self, operator_id: UUID, *, actor: str) -> Done[Operator]:
        """Active again, offline; tokens made before the deactivation stay dead (a new
        invitation or signing in with the password gives a new session)."""
        operator = self._get(Operator, operator_id)
        if not operator.reactivate(at=self.clock.now(), actor=actor):
            return Done(operator, self.head(), recorded=False)
        return Done(operator, self._saved(operator))
