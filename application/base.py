"""Shared plumbing of the Switchboard application: loading, closing, positions, unique names."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.domain import Aggregate

from application.access_records import InProcessAccessRecords
from application.auth import Principal
from application.clock import Clock
from application.errors import NotFound, UnknownReference
from application.passwords import AccountPolicy, Passwords
from application.ports import AccessRecords, RoutingView
from application.repository import SwitchboardRepository
from application.routing import Routing
from domain.actors import SYSTEM
from domain.chat import Chat
from domain.group import NAME_RESERVATION, Group, name_key
from domain.operator import Operator
from domain.questions import rating_buttons
from domain.reservation import Reservation
from domain.settings import DEFAULTS, CompanySettings
from domain.system_texts import system_text

A = TypeVar("A", bound=Aggregate)


class SwitchboardBase(Application[UUID]):
    name = "Switchboard"
    # Operators gather two events per chat; snapshots keep loading them fast.
    snapshotting_intervals: ClassVar[dict[type, int]] = {Operator: 50, Chat: 200}

    def __init__(
        self,
        env: dict[str, str] | None,
        *,
        clock: Clock,
        routing: RoutingView,
        access: AccessRecords | None = None,
        passwords: Passwords | None = None,
        policy: AccountPolicy | None = None,
    ) -> None:
        super().__init__(env)
        self.clock = clock
        self.routing = Routing(routing, lambda operator_id: self._find(Operator, operator_id))
        self.access = access or InProcessAccessRecords()
        self.passwords = passwords or Passwords()
        self.policy = policy or AccountPolicy()
        # token id -> what it grants, as of the log position the cache has been checked to.
        self._grants: dict[UUID, Any] = {}
        self._grants_position: int | None = None
        self._grants_lock = threading.Lock()
        self._touched: dict[tuple[UUID, bool], Any] = {}  # (token, active) -> last written

    def construct_repository(self) -> Repository[UUID]:
        library = super().construct_repository()
        return SwitchboardRepository(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=None if library.cache is None else getattr(library.cache, "maxsize", 0),
            fastforward=library.fastforward,
            fastforward_skipping=library.fastforward_skipping,
            deepcopy_from_cache=False,  # ours copies, sharing what cannot change
        )

    # -- loading ------------------------------------------------------------------------------

    def _snapshotted(self, kind: type) -> bool:
        return any(issubclass(kind, s) or issubclass(s, kind) for s in self.snapshotting_intervals)

    def _find(self, kind: type[A], aggregate_id: UUID) -> A | None:
        try:
            aggregate = self.repository.get(aggregate_id, snapshots=self._snapshotted(kind))
        except AggregateNotFoundError:
            return None
        return aggregate if isinstance(aggregate, kind) else None

    def _together(self, aggregates: dict[UUID, type]) -> AbstractContextManager[None]:
        """Load these aggregates (id -> kind) in one statement for the block's ``_find``s."""
        repository = self.repository
        assert isinstance(repository, SwitchboardRepository)
        return repository.together({i: self._snapshotted(k) for i, k in aggregates.items()})

    def _get(self, kind: type[A], aggregate_id: UUID) -> A:
        aggregate = self._find(kind, aggregate_id)
        if aggregate is None:
            raise NotFound(f"no {kind.__name__.lower()} {aggregate_id}")
        return aggregate

    def _group_for_reference(self, group_id: UUID | None) -> Group | None:
        """A group named in a request body: it must exist and not be deleted."""
        if group_id is None:
            return None
        group = self._find(Group, group_id)
        if group is None or group.deleted:
            raise UnknownReference(f"no group {group_id}")
        return group

    def _group_named(self, name: str) -> Group:
        """A group named by its name in a request body (as bot platforms configure handoffs)."""
        reservation = self._find(Reservation, Reservation.id_for(NAME_RESERVATION, name_key(name)))
        free = reservation is None or reservation.is_free
        group = None if free else self._find(Group, reservation.owner_id)
        if group is None or group.deleted:
            raise UnknownReference(f"no group named {name!r}")
        return group

    def _check_groups(self, group_ids: list[UUID]) -> None:
        for group_id in group_ids:
            self._group_for_reference(group_id)

    def company_settings(self) -> dict[str, Any]:
        """The admin's settings, with defaults for what was never set."""
        settings = self._find(CompanySettings, CompanySettings.fixed_id())
        return DEFAULTS | settings.values if settings is not None else dict(DEFAULTS)

    def _post_system_text(
        self,
        chat: Chat,
        settings: dict[str, Any],
        name: str,
        *,
        at: datetime,
        buttons: list[dict[str, str]] | None = None,
        **fields: str,
    ) -> None:
        """System message ``name`` in the client's language; none where its text is empty."""
        text = system_text(settings, name, chat.client.get("language"), **fields)
        if text.strip():
            chat.post_system_message(uuid4(), text, at=at, actor=SYSTEM, buttons=buttons)

    # -- closing (by an operator, or by the engine) --------------------------------------------

    def _close(
        self,
        chat: Chat,
        *,
        caller: Principal | None,
        reason: str | None,
        settings: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> Operator | None:
        """Close ``chat`` (unsaved); returns its operator with the place released. Without a
        ``caller`` the engine closes it, as ``actor`` (a bot relaying the client's answer) or
        as the system."""
        at = self.clock.now()
        actor = caller.actor if caller else actor or SYSTEM
        operator_id = caller.operator_id if caller else None
        supervisor = caller is None or caller.supervises
        settings = settings or self.company_settings()
        chat.check_open()
        chat.check_may_act(operator_id, supervisor=supervisor)
        if settings["rating_prompt"]:
            self._post_system_text(chat, settings, "rating_prompt", at=at, buttons=rating_buttons())
        holder = chat.close(
            operator_id=operator_id,
            supervisor=supervisor,
            reason=reason,
            at=at,
            actor=actor,
            # The engine closing an abandoned chat cannot pick a topic for it.
            require_topic=caller is not None and settings["require_topic_to_close"],
        )
        operator = self._find(Operator, holder) if holder else None
        if operator is not None:
            operator.release_chat(chat.id, at=at, actor=actor)
        return operator

    # -- unique names -------------------------------------------------------------------------

    def _claim(self, kind: str, key: str, owner_id: UUID, *, actor: str) -> Reservation:
        """Claim a unique ``key`` for ``owner_id``; raises ``ReservationTaken`` if held."""
        reservation = self._find(Reservation, Reservation.id_for(kind, key))
        at = self.clock.now()
        if reservation is None:
            return Reservation.reserve(kind=kind, key=key, owner_id=owner_id, at=at, actor=actor)
        reservation.claim(owner_id, at=at, actor=actor)
        return reservation

    def _release(self, kind: str, key: str, owner_id: UUID, *, actor: str) -> Reservation | None:
        reservation = self._find(Reservation, Reservation.id_for(kind, key))
        if reservation is None or reservation.owner_id != owner_id:
            return None
        reservation.release(at=self.clock.now(), actor=actor)
        return reservation

    # -- positions ----------------------------------------------------------------------------

    def _saved(self, *aggregates: Aggregate | None) -> int | None:
        """Save in one transaction; return the log position reached."""
        recordings = self.save(*aggregates)
        if recordings:
            return recordings[-1].notification.id
        return self.head()

    def head(self) -> int | None:
        """The position of the last event in the log."""
        return self.recorder.max_notification_id()
