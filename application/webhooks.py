"""Use cases of webhooks: register, change, disable, delete, replay (admin; the worker
disables a webhook whose receiver answered 410 Gone)."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID, uuid4

from application.base import SwitchboardBase
from application.errors import NotFound
from application.ports import Done
from application.retry import retry_on_conflict
from application.webhook_urls import check_reachable
from domain.actors import SYSTEM
from domain.webhook import Webhook, check_url

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class RegisteredWebhook:
    webhook: Webhook
    secret: str  # shown this once


@dataclass(frozen=True)
class RotatedSecret:
    webhook: Webhook
    secret: str  # shown this once


class WebhookCommands(SwitchboardBase):
    def get_webhook(self, webhook_id: UUID) -> Webhook:
        webhook = self._get(Webhook, webhook_id)
        if webhook.deleted:
            raise NotFound(f"webhook {webhook_id} is deleted")
        return webhook

    def register_webhook(
        self,
        *,
        actor: str,
        url: str,
        events: list[str],
        bot: str | None,
        description: str | None,
        allow_private: bool,
    ) -> Done[RegisteredWebhook]:
        check_url(url)
        check_reachable(url, allow_private=allow_private)
        secret = new_secret()
        webhook = Webhook.register(
            webhook_id=uuid4(),
            at=self.clock.now(),
            actor=actor,
            url=url,
            events=events,
            bot=bot,
            description=description,
            secret=secret,
        )
        return Done(RegisteredWebhook(webhook, secret), self._saved(webhook))

    @retry_on_conflict
    def change_webhook(
        self, webhook_id: UUID, *, actor: str, allow_private: bool, **changes
    ) -> Done[Webhook]:
        webhook = self.get_webhook(webhook_id)
        if changes.get("url") is not None:
            check_url(changes["url"])
            check_reachable(changes["url"], allow_private=allow_private)
        if not webhook.change(at=self.clock.now(), actor=actor, **changes):
            return Done(webhook, self.head(), recorded=False)
        return Done(webhook, self._saved(webhook))

    @retry_on_conflict
    def disable_webhook(self, webhook_id: UUID, reason: str) -> Done[None]:
        """The engine turns a webhook off (its receiver said 410 Gone)."""
        webhook = self._find(Webhook, webhook_id)
        if webhook is None or not webhook.disable(reason, at=self.clock.now(), actor=SYSTEM):
            return Done(None, self.head(), recorded=False)
        return Done(None, self._saved(webhook))

    @retry_on_conflict
    def delete_webhook(self, webhook_id: UUID, *, actor: str) -> Done[None]:
        webhook = self.get_webhook(webhook_id)
        webhook.delete(at=self.clock.now(), actor=actor)
        return Done(None, self._saved(webhook))

    @retry_on_conflict
    def replay_webhook(self, webhook_id: UUID, from_position: int, *, actor: str) -> Done[None]:
        """Send again every matching Event from ``from_position`` on (the worker does)."""
        webhook = self.get_webhook(webhook_id)
        webhook.replay(from_position, at=self.clock.now(), actor=actor)
        return Done(None, self._saved(webhook))

    @retry_on_conflict
    def rotate_webhook_secret(
        self, webhook_id: UUID, *, overlap: timedelta, actor: str
    ) -> Done[RotatedSecret]:
        """A new secret for the webhook; the old one still signs too, for ``overlap``."""
        webhook = self.get_webhook(webhook_id)
        secret = new_secret()
        webhook.rotate_secret(secret, overlap=overlap, at=self.clock.now(), actor=actor)
        return Done(RotatedSecret(webhook, secret), self._saved(webhook))
