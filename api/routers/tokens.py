"""The tokens in force (sessions included), and revoking one; admins only."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.deps import Admin, AppDep, MinPosition, RuntimeDep, positioned, wait_for_read_model
from api.schemas import Page
from api.schemas.accounts import TokenItem

router = APIRouter(prefix="/v1", tags=["tokens"])


@router.get("/tokens", response_model=Page[TokenItem])
def list_tokens(
    runtime: RuntimeDep,
    _: Admin,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    min_position: MinPosition = None,
) -> Page[TokenItem]:
    """The tokens in force, sessions included (``kind`` tells which is which)."""
    wait_for_read_model(runtime, "directory", min_position)
    rows, next_cursor = runtime.directory.tokens(
        now=runtime.app.clock.now(), cursor=cursor, limit=limit
    )
    used = runtime.app.access.last_used([row["id"] for row in rows])
    items = [
        TokenItem(
            **row,
            last_used_at=used.get(row["id"]),
            # A session is the token with an expiry (domain.access.ApiToken.is_session).
            kind="session" if row["expires_at"] is not None else "token",
        )
        for row in rows
    ]
    return Page[TokenItem](items=items, next_cursor=next_cursor)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_token(token_id: UUID, app: AppDep, caller: Admin, response: Response) -> None:
    """Revoke a token or end a session: it stops working at once, in every process."""
    positioned(response, app.revoke_token(token_id, actor=caller.actor))
