"""Dependencies the routers share: the container, the caller, roles, read-your-writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError, forbidden, unauthorized
from api.runtime import Runtime
from application.app import Switchboard
from application.auth import Principal, same_token
from application.ports import Done

bearer = HTTPBearer(auto_error=False, description="A token from POST /v1/tokens or /v1/operators")


def get_container(request: Request) -> Runtime:
    return request.app.state.container


def get_app(request: Request) -> Switchboard:
    return request.app.state.container.app


ContainerDep = Annotated[Runtime, Depends(get_container)]
AppDep = Annotated[Switchboard, Depends(get_app)]


def current_principal(
    container: ContainerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    token = credentials.credentials
    admin_token = container.settings.admin_token
    if admin_token is not None and same_token(token, admin_token.get_secret_value()):
        return Principal(role="admin", name="admin")
    principal = container.app.authenticate(token)
    if principal is None:
        raise unauthorized("unknown or revoked token")
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]


def require(*roles: str):
    """A dependency that lets only the given roles through (403 otherwise)."""

    def check(principal: CurrentUser) -> Principal:
        if principal.role not in roles:
            raise forbidden(f"this needs one of the roles: {', '.join(roles)}")
        return principal

    return Depends(check)


STAFF = ("operator", "supervisor", "admin")
SUPERVISORS = ("supervisor", "admin")
Staff = Annotated[Principal, require(*STAFF)]
Supervisor = Annotated[Principal, require(*SUPERVISORS)]
Admin = Annotated[Principal, require("admin")]
Bot = Annotated[Principal, require("bot")]

MinPosition = Annotated[
    int | None,
    Query(ge=0, description="Answer only once the read model has reached this log position."),
]


def wait_for_read_model(container: Runtime, name: str, min_position: int | None) -> None:
    """Read-your-writes: block (bounded) until read model ``name`` reaches ``min_position``."""
    if not min_position:
        return
    head = container.app.head() or 0
    if min_position > head:  # no write has reached it: waiting cannot help
        raise ApiError(
            422, "bad_position", f"min_position {min_position} is beyond the log's head {head}"
        )
    if not container.wait_for(name, min_position, container.settings.read_wait_s):
        raise ApiError(
            504,
            "timeout",
            f"read model {name} did not reach position {min_position} "
            f"within {container.settings.read_wait_s:g}s",
        )


def positioned(response: Response, done: Done) -> None:
    """Every command's response says which log position it reached."""
    if done.position is not None:
        response.headers["X-Position"] = str(done.position)
