"""Staff accounts: invitations, sessions, one's own profile, the token list."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
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
