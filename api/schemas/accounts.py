"""Staff accounts: invitations, sessions, one's own profile, the token list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import Body, Name
from api.schemas.staff import OperatorOut
from domain.account import MAX_PASSWORD, MIN_PASSWORD

Password = Annotated[str, Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD)]
# Any text up to an e-mail's longest: an address that is no address is just another unknown one.
Email = Annotated[str, Field(min_length=1, max_length=320)]


class InviteOut(BaseModel):
    invite_code: str = Field(description="Single use; shown this once; only its hash is kept.")
    expires_at: datetime


class AcceptIn(Body):
    password: Password


class SessionIn(Body):
    email: Email
    password: Annotated[str, Field(max_length=MAX_PASSWORD)]


class SignedInOut(BaseModel):
    token: str = Field(description="The session's token, shown this once.")
    expires_at: datetime
    operator: OperatorOut


class MePatch(Body):
    first_name: Name | None = None
    last_name: Name | None = None
    password: Password | None = None
    current_password: Annotated[str, Field(max_length=MAX_PASSWORD)] | None = None

    @model_validator(mode="after")
    def _current_password_with_a_new_one(self) -> MePatch:
        if self.password is not None and self.current_password is None:
            raise ValueError("a new password needs current_password")
        return self


class TokenItem(BaseModel):
    id: UUID
    role: str
    name: str
    operator_id: UUID | None
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None = Field(None, description="Sessions only.")
    kind: Literal["session", "token"] = Field(
        "token",
        description="`session`: made by signing in (it expires); `token`: made by an admin "
        "(`POST /v1/tokens`, `POST /v1/operators`).",
    )


class MeOut(BaseModel):
    """Who the caller is. For a token of an operator, the Operator's fields as before (and
    the same record again in ``operator``); for any other token, those fields are null."""

    id: UUID | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    role: str = Field(description="The caller's role (a staff token's: its operator's, now).")
    group_ids: list[UUID] | None = None
    max_chats: int | None = None
    status: str | None = None
    status_since: datetime | None = None
    load: int | None = None
    auto_logout_s: int | None = None
    active: bool | None = None
    operator: OperatorOut | None = Field(description="The caller's operator; null if none.")
    token_id: UUID | None = Field(
        description="The token's id, as `GET /v1/tokens` lists it (null for the start-up "
        "admin token)."
    )
    token_name: str
    session: bool = Field(description="True when the token is a session made by signing in.")
