"""Tokens, groups and operators: what admins and supervisors manage."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, EmailStr, Field

from api.schemas.common import Body, Name, ShortText, Whole
from domain.group import MAX_SL_S
from domain.operator import DEFAULT_MAX_CHATS, MAX_AUTO_LOGOUT_S, MAX_GROUPS, MAX_MAX_CHATS

StaffRole = Literal["operator", "supervisor", "admin"]
AnyRole = Literal["admin", "supervisor", "operator", "bot", "analyst", "auditor"]
SettableStatus = Literal["working", "break", "leaving", "offline"]


# -- tokens ---------------------------------------------------------------------------------------


class TokenIn(Body):
    role: AnyRole
    name: Name
    operator_id: UUID | None = None


class TokenOut(BaseModel):
    token: str = Field(description="Shown this once; only its hash is kept.")
    role: str
    name: str
    operator_id: UUID | None = None


# -- groups ---------------------------------------------------------------------------------------


class GroupIn(Body):
    name: Name
    description: ShortText = ""
    sl_first_response_s: Whole | None = Field(None, ge=1, le=MAX_SL_S)
    sl_next_response_s: Whole | None = Field(None, ge=1, le=MAX_SL_S)
    routing: Literal["auto", "manual"] = "auto"


class GroupPatch(Body):
    name: Name | None = None
    description: ShortText | None = None
    sl_first_response_s: Whole | None = Field(None, ge=1, le=MAX_SL_S)
    sl_next_response_s: Whole | None = Field(None, ge=1, le=MAX_SL_S)
    routing: Literal["auto", "manual"] | None = None


class GroupOut(BaseModel):
    id: UUID
    name: str
    description: str
    sl_first_response_s: int
    sl_next_response_s: int
    routing: str


# -- operators ------------------------------------------------------------------------------------


class OperatorIn(Body):
    first_name: Name
    last_name: Name
    email: EmailStr
    role: StaffRole = "operator"
    group_ids: list[UUID] = Field(default_factory=list, max_length=MAX_GROUPS)
    max_chats: Whole = Field(DEFAULT_MAX_CHATS, ge=0, le=MAX_MAX_CHATS)
    auto_logout_s: Whole = Field(0, ge=0, le=MAX_AUTO_LOGOUT_S)


class OperatorPatch(Body):
    first_name: Name | None = None
    last_name: Name | None = None
    email: EmailStr | None = None
    role: StaffRole | None = None
    group_ids: list[UUID] | None = Field(None, max_length=MAX_GROUPS)
    max_chats: Whole | None = Field(None, ge=0, le=MAX_MAX_CHATS)
    auto_logout_s: Whole | None = Field(None, ge=0, le=MAX_AUTO_LOGOUT_S)


class StatusIn(Body):
    status: SettableStatus


class OperatorOut(BaseModel):
    id: UUID
    first_name: str
    last_name: str
    email: str
    role: str
    group_ids: list[UUID]
    max_chats: int
    status: str
    status_since: datetime | None = None
    load: int
    auto_logout_s: int = 0
    active: bool = Field(True, description="False once deactivated (until reactivated).")


class OperatorCreated(OperatorOut):
    token: str = Field(description="The operator's token, shown this once.")
    invite_code: str = Field(
        description="Single use, to set a password (POST /v1/invitations/{code}/accept); "
        "shown this once."
    )
    invite_expires_at: datetime
