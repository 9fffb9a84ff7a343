"""Letting operators in and locking them out: invitations, deactivation, reactivation."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Response, status

from api.deps import AppDep, Supervisor, positioned
from api.schemas import OperatorOut
from api.schemas.accounts import InviteOut
from api.views import operator_out

router = APIRouter(prefix="/v1", tags=["operators"])


@router.post(
    "/operators/{operator_id}/invite", status_code=status.HTTP_201_CREATED, response_model=InviteOut
)
def invite_operator(
    operator_id: UUID, app: AppDep, caller: Supervisor, response: Response
) -> InviteOut:
    """A new invitation code (earlier ones stop working); also how a password is reset."""
    done = app.invite(operator_id, actor=caller.actor)
    positioned(response, done)
    return InviteOut(invite_code=done.value.code, expires_at=done.value.expires_at)


@router.post("/operators/{operator_id}/deactivate", response_model=OperatorOut)
def deactivate_operator(
    operator_id: UUID, app: AppDep, caller: Supervisor, response: Response
) -> OperatorOut:
    """Lock out: every token and session stops at once; offline; open chats routed again."""
    done = app.deactivate(operator_id, caller=caller)
    positioned(response, done)
    return operator_out(done.value)


@router.post("/operators/{operator_id}/reactivate", response_model=OperatorOut)
def reactivate_operator(
    operator_id: UUID, app: AppDep, caller: Supervisor, response: Response
) -> OperatorOut:
    """Let a deactivated operator in again; they sign in anew (old tokens stay dead)."""
    done = app.reactivate(operator_id, actor=caller.actor)
    positioned(response, done)
    return operator_out(done.value)
