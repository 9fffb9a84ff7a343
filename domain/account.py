"""An operator's account (their password) and the invitations that let them set it.

What is kept is what an auditor may ask about: who invited whom and when, when an invitation
was accepted, when a password was set. Only hashes are kept: an invitation's id is derived
from its code's hash, and a password is stored as its argon2 hash (never the password).
"""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidValue, InvitationExpired

MIN_PASSWORD = 10
MAX_PASSWORD = 1000
_ACCOUNT = uuid5(NAMESPACE_URL, "switchboard:account")
_INVITATION = uuid5(NAMESPACE_URL, "switchboard:invitation")


def check_password(password: str) -> None:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidValue(f"a password has {MIN_PASSWORD} to {MAX_PASSWORD} characters")


class Account(Aggregate):
    """One per operator: the invitation in force and the password hash."""

    class Event(Aggregate.Event):
        actor: str

    class AccountOpened(Aggregate.Created):
        actor: str
        operator_id: UUID

    class InvitationIssued(Event):
        invitation_id: UUID

        def apply(self, account: Account) -> None:
            account.invitation_id = self.invitation_id

    class PasswordSet(Event):
        password_hash: str

        def apply(self, account: Account) -> None:
            account.password_hash = self.password_hash
            account.invitation_id = None  # a password set ends any invitation still open

    @staticmethod
    def id_for(operator_id: UUID) -> UUID:
        return uuid5(_ACCOUNT, str(operator_id))

    @classmethod
    def open(cls, *, operator_id: UUID, at: datetime, actor: str) -> Account:
        return cls._create(
            cls.AccountOpened,
            id=cls.id_for(operator_id),
            timestamp=at,
            actor=actor,
            operator_id=operator_id,
        )

    def __init__(self, *, actor: str, operator_id: UUID) -> None:
        self.operator_id = operator_id
        self.invitation_id: UUID | None = None
        self.password_hash: str | None = None

    def invite(self, invitation_id: UUID, *, at: datetime, actor: str) -> None:
        """The newest invitation replaces any earlier one still open."""
        self.trigger_event(
            self.InvitationIssued, timestamp=at, actor=actor, invitation_id=invitation_id
        )

    def set_password(self, password_hash: str, *, at: datetime, actor: str) -> None:
        if not password_hash.startswith("$argon2"):
            raise InvalidValue("only an argon2 hash is kept, never a password")
        self.trigger_event(self.PasswordSet, timestamp=at, actor=actor, password_hash=password_hash)


class Invitation(Aggregate):
    """A single-use code that lets an operator set a password, until ``expires_at``."""

    class Event(Aggregate.Event):
        actor: str

    class Invited(Aggregate.Created):
        actor: str
        operator_id: UUID
        expires_at: datetime

    class InvitationAccepted(Event):
        def apply(self, invitation: Invitation) -> None:
            invitation.accepted = True

    @staticmethod
    def id_for_hash(code_hash: str) -> UUID:
        return uuid5(_INVITATION, code_hash)

    @classmethod
    def issue(
        cls, *, code_hash: str, operator_id: UUID, at: datetime, expires_at: datetime, actor: str
    ) -> Invitation:
        if expires_at <= at:
            raise InvalidValue("an invitation expires after it is made")
        return cls._create(
            cls.Invited,
            id=cls.id_for_hash(code_hash),
            timestamp=at,
            actor=actor,
            operator_id=operator_id,
            expires_at=expires_at,
        )

    def __init__(self, *, actor: str, operator_id: UUID, expires_at: datetime) -> None:
        self.operator_id = operator_id
        self.expires_at = expires_at
        self.accepted = False

    def accept(self, *, account: Account, at: datetime, actor: str) -> None:
        """Use the code once, before it expires, while no newer invitation replaced it."""
        if self.accepted:
            raise InvitationExpired("this invitation has been used")
        if at >= self.expires_at:
            raise InvitationExpired("this invitation has expired")
        if account.operator_id != self.operator_id or account.invitation_id != self.id:
            raise InvitationExpired("a newer invitation replaced this one")
        self.trigger_event(self.InvitationAccepted, timestamp=at, actor=actor)
