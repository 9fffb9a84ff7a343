"""The Webhook aggregate: an endpoint that receives Events, and the vocabulary of Events.

Registration changes are audit-worthy (who pointed the company's chats at which URL, when,
and who replayed what), so a webhook is event-sourced like the rest. Its events sit in the
same log as the chats', so the Events follower schedules deliveries for exactly the webhooks
registered at that point of the log.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from eventsourcing.domain import Aggregate

from domain.errors import InvalidValue
from domain.texts import MAX_NAME

# The Events a bot or a channel connector is told about (API.md, "Events for bots and channels").
EVENT_TYPES = (
    "chat.queued",
    "chat.assigned",
    "chat.intercepted",
    "chat.reassigned",
    "chat.overdue",
    "chat.muted",
    "chat.unmuted",
    "chat.closed",
    "chat.rated",
    "message.created",
    "message.edited",
    "message.deleted",
)
MAX_URL = 2_000
MAX_DESCRIPTION = 500
# How long a replaced secret may still sign deliveries beside the new one, at most.
MAX_SECRET_OVERLAP = timedelta(days=7)


class BadWebhookUrl(InvalidValue):
    """The URL is not an http(s) URL without credentials (or reaches a refused address)."""


def check_url(url: str) -> None:
    """An http(s) URL with a host and no credentials in it."""
    if len(url) > MAX_URL:
        raise BadWebhookUrl(f"a webhook URL is at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a bad port raises here)
    except ValueError as error:
        raise BadWebhookUrl(f"not a URL: {error}") from error
    if parts.scheme not in ("http", "https"):
        raise BadWebhookUrl("a webhook URL is http or https")
    if not parts.hostname:
        raise BadWebhookUrl("a webhook URL names a host")
    if parts.username is not None or parts.password is not None:
        raise BadWebhookUrl("a webhook URL carries no credentials (the signature proves us)")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise BadWebhookUrl("a webhook URL has no spaces or control characters")


def check_event_types(types: list[str]) -> list[str]:
    """The types named, each known, without repeats; empty means every type."""
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise InvalidValue(f"unknown event types: {', '.join(unknown)}")
    return sorted(set(types), key=EVENT_TYPES.index)


def _check_text(value: str | None, what: str, limit: int) -> None:
    if value is not None and (len(value) > limit or "\x00" in value):
        raise InvalidValue(f"{what} is at most {limit} characters")


class Webhook(Aggregate):
    class Event(Aggregate.Event):
        actor: str

    class WebhookRegistered(Aggregate.Created):
        actor: str
        url: str
        events: list[str]
        bot: str | None
        description: str | None
        # HMAC signing needs the secret itself: it is kept here, never shown again.
        secret: str

    class WebhookChanged(Event):
        url: str
        events: list[str]
        description: str | None
        active: bool

        def apply(self, webhook: Webhook) -> None:
            webhook.url = self.url
            webhook.events = list(self.events)
            webhook.description = self.description
            webhook.active = self.active

    class WebhookDisabled(Event):
        """The receiver answered 410 Gone (or someone turned it off for a reason)."""

        reason: str

        def apply(self, webhook: Webhook) -> None:
            webhook.active = False

    class WebhookDeleted(Event):
        def apply(self, webhook: Webhook) -> None:
            webhook.deleted = True
            webhook.active = False

    class ReplayRequested(Event):
        from_position: int

    class SecretRotated(Event):
        """A new signing secret; until ``previous_until`` deliveries carry a signature with
        the secret it replaces too (Standard Webhooks: several signatures, space-separated),
        so receivers can switch over without losing a delivery."""

        # Kept as it is, like the first one: signing needs the secret itself.
        secret: str
        previous_until: datetime

        def apply(self, webhook: Webhook) -> None:
            webhook.previous_secret = webhook.secret
            webhook.secret = self.secret
            webhook.previous_until = self.previous_until

    @classmethod
    def register(
        cls,
        *,
        webhook_id,
        at: datetime,
        actor: str,
        url: str,
        events: list[str],
        bot: str | None,
        description: str | None,
        secret: str,
    ) -> Webhook:
        check_url(url)
        _check_text(bot, "a bot's name", MAX_NAME)
        _check_text(description, "a description", MAX_DESCRIPTION)
        return cls._create(
            cls.WebhookRegistered,
            id=webhook_id,
            timestamp=at,
            actor=actor,
            url=url,
            events=check_event_types(events),
            bot=bot,
            description=description,
            secret=secret,
        )

    def __init__(
        self,
        *,
        actor: str,
        url: str,
        events: list[str],
        bot: str | None,
        description: str | None,
        secret: str,
    ) -> None:
        self.registered_by = actor
        self.url = url
        self.events = list(events)
        self.bot = bot
        self.description = description
        self.secret = secret
        self.previous_secret: str | None = None
        self.previous_until: datetime | None = None
        self.active = True
        self.deleted = False

    @property
    def created_at(self) -> datetime:
        return self.created_on

    def change(
        self,
        *,
        at: datetime,
        actor: str,
        url: str | None = None,
        events: list[str] | None = None,
        description: str | None = None,
        active: bool | None = None,
    ) -> bool:
        """Change what is given; False when nothing would change."""
        new_url = self.url if url is None else url
        check_url(new_url)
        new_events = self.events if events is None else check_event_types(events)
        new_description = self.description if description is None else description
        _check_text(new_description, "a description", MAX_DESCRIPTION)
        new_active = self.active if active is None else active
        now = (new_url, list(new_events), new_description, new_active)
        if now == (self.url, self.events, self.description, self.active):
            return False
        self.trigger_event(
            self.WebhookChanged,
            timestamp=at,
            actor=actor,
            url=new_url,
            events=list(new_events),
            description=new_description,
            active=new_active,
        )
        return True

    def disable(self, reason: str, *, at: datetime, actor: str) -> bool:
        if not self.active:
            return False
        self.trigger_event(self.WebhookDisabled, timestamp=at, actor=actor, reason=reason[:500])
        return True

    def delete(self, *, at: datetime, actor: str) -> None:
        self.trigger_event(self.WebhookDeleted, timestamp=at, actor=actor)

    def replay(self, from_position: int, *, at: datetime, actor: str) -> None:
        if isinstance(from_position, bool) or from_position < 0:
            raise InvalidValue("from_position is a log position, 0 or more")
        self.trigger_event(
            self.ReplayRequested, timestamp=at, actor=actor, from_position=from_position
        )

    def rotate_secret(self, secret: str, *, overlap: timedelta, at: datetime, actor: str) -> None:
        """Sign with ``secret`` from now on, and with the current one too for ``overlap``
        (a secret replaced during an earlier overlap stops at once: two at most)."""
        if overlap < timedelta(0) or overlap > MAX_SECRET_OVERLAP:
            days = MAX_SECRET_OVERLAP.days
            raise InvalidValue(f"a secret's overlap is 0 to {days} days")
        self.trigger_event(
            self.SecretRotated,
            timestamp=at,
            actor=actor,
            secret=secret,
            previous_until=at + overlap,
        )
