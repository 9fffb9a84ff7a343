"""Who is calling: a token's grant, cached per process and invalidated through the log.

A grant (the principal behind a token, and its session limits) is read from the token's and
its operator's aggregates once, then kept. Before each use the process reads the log's head
and looks, in the events since the position it checked last, for the few that can take a grant
away (a revocation, a deactivation, a reactivation, a change of role): those evict the grants
of their token or operator. So a revocation saved by any process holds in every process on the
next request, with no time-to-live to wait out, and an unchanged log costs one small query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable
from uuid import UUID

from eventsourcing.utils import get_topic

from application.auth import Principal, hash_token
from application.base import SwitchboardBase
from domain.access import ApiToken
from domain.operator import Operator

AUTH_TOPICS = tuple(
    get_topic(event)
    for event in (
        ApiToken.TokenRevoked,
        Operator.Deactivated,
        Operator.Reactivated,
        Operator.ProfileUpdated,
    )
)
PAGE = 1000
MAX_GRANTS = 10_000
TOUCH_EVERY_S = 1.0  # a token's use is written at most this often per process


@runtime_checkable
class TopicsSince(Protocol):
    """A recorder that reads the log's head and the events of some topics since a position
    in one statement (``infrastructure.recorder``); others take two."""

    def select_topics_since(
        self, after: int, topics: Sequence[str], limit: int
    ) -> tuple[int, list[tuple[int, UUID]]]: ...


@dataclass(frozen=True)
class Grant:
    principal: Principal | None  # None: the token gives nothing (unknown, revoked, locked out)
    expires_at: datetime | None = None
    started_at: datetime | None = None
    auto_logout_s: int = 0


class Authentication(SwitchboardBase):
    def authenticate(self, secret: str, *, acting: bool = False) -> Principal | None:
        """The caller behind a token, or None. ``acting``: the request is an action (not a
        read), which keeps a session alive."""
        token_id = ApiToken.id_for_hash(hash_token(secret))
        checked = self._evict_changed_grants()
        now = self.clock.now()
        grant = self._grant(token_id, checked, now)
        if grant.principal is None or not self._in_time(token_id, grant, now):
            return None
        self._touch(token_id, now, active=acting)
        return grant.principal

    def ended_grants(self, callers: Iterable[Principal]) -> set[UUID]:
        """The tokens, among these callers', that no longer grant what they did: revoked,
        expired, idle past ``auto_logout_s``, locked out, or now of another role. One look at
        the log's head for all of them; nothing counts as a use. (An open live stream asks.)"""
        checked = self._evict_changed_grants()
        now = self.clock.now()
        ended = set()
        for caller in callers:
            if caller.token_id is None:
                continue  # the start-up admin token: nothing revokes it
            grant = self._grant(caller.token_id, checked, now)
            if grant.principal != caller or not self._in_time(caller.token_id, grant, now):
                ended.add(caller.token_id)
        return ended

    def _grant(self, token_id: UUID, checked: int, now: datetime) -> Grant:
        grant = self._grants.get(token_id)
        if grant is None:
            grant = self._grant_for(token_id, now)
            with self._grants_lock:
                # Kept only if no other request has looked further in the log meanwhile: an
                # event it saw may be newer than what this load read.
                if self._grants_position == checked:
                    if len(self._grants) >= MAX_GRANTS:
                        self._grants.clear()
                    self._grants[token_id] = grant
        return grant

    def _in_time(self, token_id: UUID, grant: Grant, now: datetime) -> bool:
        if grant.expires_at is not None and now >= grant.expires_at:
            return False
        if grant.started_at is None or not grant.auto_logout_s:
            return True
        # A session ends after auto_logout_s with no action and no heartbeat through it.
        last = max(grant.started_at, self.access.last_active(token_id) or grant.started_at)
        return now - last <= timedelta(seconds=grant.auto_logout_s)

    def _touch(self, token_id: UUID, now: datetime, *, active: bool) -> None:
        key = (token_id, active)
        last = self._touched.get(key)
        if last is not None and (now - last).total_seconds() < TOUCH_EVERY_S:
            return
        if len(self._touched) >= MAX_GRANTS:
            self._touched.clear()
        self._touched[key] = now
        self.access.touch(token_id, now, active=active)

    def _grant_for(self, token_id: UUID, now: datetime) -> Grant:
        token = self._find(ApiToken, token_id)
        if token is None or token.revoked:
            return Grant(None)
        if token.operator_id is None:
            return Grant(Principal(role=token.role, name=token.name, token_id=token_id))
        # Staff act in the role their operator has now, and lose access when deactivated.
        operator = self._find(Operator, token.operator_id)
        if operator is None or not operator.active:
            return Grant(None)
        if not token.valid_at(now, operator_deactivated_at=operator.deactivated_at):
            return Grant(None)
        principal = Principal(
            role=operator.role,
            name=token.name,
            operator_id=operator.id,
            token_id=token_id,
            session=token.is_session,
        )
        if not token.is_session:
            return Grant(principal)
        return Grant(principal, token.expires_at, token.created_on, operator.auto_logout_s)

    def _evict_changed_grants(self) -> int:
        """Drop the grants that events since the last check may have changed; returns the log
        position checked to. The log is read outside the lock; one request at a time applies
        what came since, and the others then find it done."""
        since = self._grants_position
        if since is not None and self._grants and isinstance(self.recorder, TopicsSince):
            # The head and the changes since the last check, in one round trip.
            head, found = self.recorder.select_topics_since(since, AUTH_TOPICS, PAGE)
            if len(found) < PAGE:
                with self._grants_lock:
                    checked = self._grants_position
                    if checked is not None and head <= checked:
                        return checked
                    # Read from ``since``, at or before where the position is now: it covers
                    # everything from there to the head.
                    self._evict({originator_id for _, originator_id in found})
                    self._grants_position = head
                    return head
        head = self.recorder.max_notification_id() or 0
        with self._grants_lock:
            checked = self._grants_position
            if checked is not None and head <= checked:
                return checked
            if checked is None or not self._grants:
                self._grants_position = head
                return head
            while checked < head:
                page = self.recorder.select_notifications(
                    start=checked,
                    limit=PAGE,
                    stop=head,
                    topics=AUTH_TOPICS,
                    inclusive_of_start=False,
                )
                self._evict({n.originator_id for n in page})
                if len(page) < PAGE:
                    break
                checked = page[-1].id
            # Moved on only once the scan is done: a failed one is made again next time.
            self._grants_position = head
            return head

    def _evict(self, changed: set[UUID]) -> None:
        if not changed:
            return
        for token_id, grant in list(self._grants.items()):
            operator_id = grant.principal.operator_id if grant.principal else None
            if token_id in changed or operator_id in changed:
                self._grants.pop(token_id, None)
        # Operators whose grant was "none" are not known by operator id: drop those too.
        for token_id in [t for t, g in self._grants.items() if g.principal is None]:
            self._grants.pop(token_id, None)
