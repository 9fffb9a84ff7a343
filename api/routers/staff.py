"""Tokens, groups and operators: what admins and supervisors manage."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response, status

from api.deps import (
    STAFF,
    Admin,
    AppDep,
    CurrentUser,
    MinPosition,
    RuntimeDep,
    Staff,
    Supervisor,
    positioned,
    require,
    wait_for_read_model,
)
from api.errors import forbidden
from api.schemas import (
    GroupIn,
    GroupOut,
    GroupPatch,
    OperatorCreated,
    OperatorIn,
    OperatorOut,
    OperatorPatch,
    Page,
    StatusIn,
    TokenIn,
    TokenOut,
)
from api.schemas.accounts import MeOut
from api.views import group_out, operator_out
from application.auth import Principal

router = APIRouter(prefix="/v1")

Limit = Annotated[int, Query(ge=1, le=500)]


def _check_may_grant(caller: Principal, role: str | None) -> None:
    if role == "admin" and caller.role != "admin":
        raise forbidden("only an admin makes another admin")


# -- tokens ---------------------------------------------------------------------------------------


@router.post(
    "/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenOut, tags=["tokens"]
)
def create_token(body: TokenIn, app: AppDep, caller: Admin, response: Response) -> TokenOut:
    done = app.issue_token(
        role=body.role, name=body.name, operator_id=body.operator_id, actor=caller.actor
    )
    positioned(response, done)
    issued = done.value
    return TokenOut(
        token=issued.token, role=issued.role, name=issued.name, operator_id=issued.operator_id
    )


# -- groups ---------------------------------------------------------------------------------------


@router.post(
    "/groups", status_code=status.HTTP_201_CREATED, response_model=GroupOut, tags=["groups"]
)
def create_group(body: GroupIn, app: AppDep, caller: Supervisor, response: Response) -> GroupOut:
    done = app.create_group(actor=caller.actor, **body.model_dump())
    positioned(response, done)
    return group_out(done.value)


@router.get("/groups", response_model=Page[GroupOut], tags=["groups"])
def list_groups(
    runtime: RuntimeDep,
    # Bots too: they name groups in their handoffs.
    _: Annotated[Principal, require(*STAFF, "analyst", "bot")],
    min_position: MinPosition = None,
) -> Page[GroupOut]:
    wait_for_read_model(runtime, "directory", min_position)
    return Page[GroupOut](items=[GroupOut(**row) for row in runtime.directory.groups()])


@router.get("/groups/{group_id}", response_model=GroupOut, tags=["groups"])
def get_group(
    group_id: UUID, app: AppDep, _: Annotated[Principal, require(*STAFF, "analyst", "bot")]
) -> GroupOut:
    return group_out(app.get_group(group_id))


@router.patch("/groups/{group_id}", response_model=GroupOut, tags=["groups"])
def update_group(
    group_id: UUID, body: GroupPatch, app: AppDep, caller: Supervisor, response: Response
) -> GroupOut:
    done = app.update_group(group_id, actor=caller.actor, **body.model_dump(exclude_unset=True))
    positioned(response, done)
    return group_out(done.value)


@router.delete("/groups/{group_id}", status_code=status.HTTP_204_NO_CONTENT, tags=["groups"])
def delete_group(group_id: UUID, app: AppDep, caller: Supervisor, response: Response) -> None:
    positioned(response, app.delete_group(group_id, actor=caller.actor))


# -- operators ------------------------------------------------------------------------------------


@router.post(
    "/operators",
    status_code=status.HTTP_201_CREATED,
    response_model=OperatorCreated,
    tags=["operators"],
)
def create_operator(
    body: OperatorIn, app: AppDep, caller: Supervisor, response: Response
) -> OperatorCreated:
    _check_may_grant(caller, body.role)
    done = app.enrol_operator(actor=caller.actor, **body.model_dump())
    positioned(response, done)
    enrolled = done.value
    return OperatorCreated(
        **operator_out(enrolled.operator).model_dump(),
        token=enrolled.token,
        invite_code=enrolled.invite.code,
        invite_expires_at=enrolled.invite.expires_at,
    )


@router.get("/operators", response_model=Page[OperatorOut], tags=["operators"])
def list_operators(
    runtime: RuntimeDep,
    caller: Staff,
    group_id: UUID | None = None,
    status: Annotated[str | None, Query(pattern="^(working|break|leaving|absent|offline)$")] = None,
    include_inactive: Annotated[
        bool, Query(description="Deactivated operators too (`active`: false); supervisors.")
    ] = False,
    limit: Limit = 50,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    min_position: MinPosition = None,
) -> Page[OperatorOut]:
    """Operators by name. Supervisors; operators too when the company lets operators
    reassign chats (``operators_may_reassign``), to choose whom to hand one to."""
    if not caller.supervises:
        if include_inactive:
            raise forbidden("only supervisors list deactivated operators")
        if not runtime.app.company_settings()["operators_may_reassign"]:
            raise forbidden("operators list operators only where they may reassign chats")
    wait_for_read_model(runtime, "directory", min_position)
    rows, next_cursor = runtime.directory.operators(
        group_id=group_id,
        status=status,
        include_inactive=include_inactive,
        cursor=cursor,
        limit=limit,
    )
    return Page[OperatorOut](items=[OperatorOut(**row) for row in rows], next_cursor=next_cursor)


@router.get("/me", response_model=MeOut, tags=["operators"])
def me(app: AppDep, caller: CurrentUser) -> MeOut:
    """Who the caller is: any valid token. A staff token's operator (as ``GET
    /v1/operators/{id}``), else only the role and the token."""
    token = {
        "token_id": caller.token_id,
        "token_name": caller.name,
        "session": caller.session,
    }
    if caller.operator_id is None:
        return MeOut(role=caller.role, operator=None, **token)
    operator = operator_out(app.get_operator(caller.operator_id))
    return MeOut(**operator.model_dump(), operator=operator, **token)


@router.get("/operators/{operator_id}", response_model=OperatorOut, tags=["operators"])
def get_operator(operator_id: UUID, app: AppDep, caller: Staff) -> OperatorOut:
    if not caller.supervises and caller.operator_id != operator_id:
        raise forbidden("operators see their own record; supervisors everyone's")
    return operator_out(app.get_operator(operator_id))


@router.patch("/operators/{operator_id}", response_model=OperatorOut, tags=["operators"])
def update_operator(
    operator_id: UUID, body: OperatorPatch, app: AppDep, caller: Supervisor, response: Response
) -> OperatorOut:
    _check_may_grant(caller, body.role)
    done = app.update_operator(
        operator_id, actor=caller.actor, **body.model_dump(exclude_unset=True)
    )
    positioned(response, done)
    return operator_out(done.value)


@router.put("/operators/{operator_id}/status", response_model=OperatorOut, tags=["operators"])
def set_status(
    operator_id: UUID, body: StatusIn, app: AppDep, caller: CurrentUser, response: Response
) -> OperatorOut:
    if caller.role not in STAFF:
        raise forbidden("only staff set operator statuses")
    done = app.set_status(operator_id, body.status, caller=caller)
    positioned(response, done)
    return operator_out(done.value)
