"""Webhooks (admin): register, list, change, delete; their delivery logs and replays."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.deps import Admin, AppDep, MinPosition, RuntimeDep, positioned, wait_for_read_model
from api.schemas.webhooks import (
    DeliveriesPage,
    DeliveryOut,
    ReplayIn,
    RotateSecretIn,
    SecretRotatedOut,
    WebhookCreated,
    WebhookIn,
    WebhookOut,
    WebhookPatch,
    WebhooksPage,
)
from domain.webhook import Webhook

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=200)]


def webhook_out(webhook: Webhook) -> WebhookOut:
    return WebhookOut(
        id=webhook.id,
        url=webhook.url,
        events=webhook.events,
        bot=webhook.bot,
        description=webhook.description,
        active=webhook.active,
        created_at=webhook.created_at,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated)
def create_webhook(
    body: WebhookIn, app: AppDep, runtime: RuntimeDep, caller: Admin, response: Response
) -> WebhookCreated:
    """Register a receiver; the answer holds its signing secret, shown this once."""
    done = app.register_webhook(
        actor=caller.actor,
        url=body.url,
        events=list(body.events or []),
        bot=body.bot,
        description=body.description,
        allow_private=runtime.config.webhooks_reach_private,
    )
    positioned(response, done)
    return WebhookCreated(**webhook_out(done.value.webhook).model_dump(), secret=done.value.secret)


@router.get("", response_model=WebhooksPage)
def list_webhooks(
    runtime: RuntimeDep,
    _: Admin,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> WebhooksPage:
    wait_for_read_model(runtime, runtime.events_out.name, min_position)
    rows, next_cursor = runtime.events_out.webhooks(cursor=cursor, limit=limit)
    return WebhooksPage(items=[WebhookOut(**row) for row in rows], next_cursor=next_cursor)


@router.get("/{webhook_id}", response_model=WebhookOut)
def get_webhook(webhook_id: UUID, app: AppDep, _: Admin) -> WebhookOut:
    return webhook_out(app.get_webhook(webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookOut)
def update_webhook(
    webhook_id: UUID,
    body: WebhookPatch,
    app: AppDep,
    runtime: RuntimeDep,
    caller: Admin,
    response: Response,
) -> WebhookOut:
    changes = body.model_dump(exclude_unset=True)
    if changes.get("events") is not None:
        changes["events"] = list(changes["events"])
    done = app.change_webhook(
        webhook_id,
        actor=caller.actor,
        allow_private=runtime.config.webhooks_reach_private,
        **{key: value for key, value in changes.items() if value is not None},
    )
    positioned(response, done)
    return webhook_out(done.value)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook(webhook_id: UUID, app: AppDep, caller: Admin, response: Response) -> None:
    positioned(response, app.delete_webhook(webhook_id, actor=caller.actor))


@router.get("/{webhook_id}/deliveries", response_model=DeliveriesPage)
def list_deliveries(
    webhook_id: UUID,
    app: AppDep,
    runtime: RuntimeDep,
    _: Admin,
    status: Literal["pending", "delivered", "failed"] | None = None,
    min_position: MinPosition = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> DeliveriesPage:
    """Each Event sent to this webhook: its attempts, the last answer or error, what's next."""
    app.get_webhook(webhook_id)
    wait_for_read_model(runtime, runtime.events_out.name, min_position)
    rows, next_cursor = runtime.events_out.deliveries(
        webhook_id, status=status, cursor=cursor, limit=limit
    )
    return DeliveriesPage(items=[DeliveryOut(**row) for row in rows], next_cursor=next_cursor)


@router.post("/{webhook_id}/replay", status_code=status.HTTP_202_ACCEPTED)
def replay_webhook(
    webhook_id: UUID, body: ReplayIn, app: AppDep, caller: Admin, response: Response
) -> dict[str, int | None]:
    """Send again every matching Event from ``from_position`` on; the worker does it."""
    done = app.replay_webhook(webhook_id, body.from_position, actor=caller.actor)
    positioned(response, done)
    return {"position": done.position}


@router.post("/{webhook_id}/rotate-secret", response_model=SecretRotatedOut)
def rotate_webhook_secret(
    webhook_id: UUID,
    app: AppDep,
    runtime: RuntimeDep,
    caller: Admin,
    response: Response,
    body: RotateSecretIn | None = None,
) -> SecretRotatedOut:
    """A new signing secret, shown this once. For the overlap, each delivery is signed with
    the new and the replaced secret (two signatures in `webhook-signature`: a receiver that
    knows either verifies it); then with the new one only."""
    overlap_s = body.overlap_s if body and body.overlap_s is not None else None
    if overlap_s is None:
        overlap_s = runtime.config.webhook_secret_overlap_h * 3600
    done = app.rotate_webhook_secret(
        webhook_id, overlap=timedelta(seconds=overlap_s), actor=caller.actor
    )
    positioned(response, done)
    webhook = done.value.webhook
    return SecretRotatedOut(
        **webhook_out(webhook).model_dump(),
        secret=done.value.secret,
        previous_secret_until=webhook.previous_until,
    )
