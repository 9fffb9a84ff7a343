"""Dependencies the routers share: the runtime, the caller, roles, read-your-writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from api.errors import ApiError, forbidden, unauthorized
from api.runtime import Runtime
from application.app import Switchboard
from application.auth import Principal, same_token
from application.ports import Done

bearer = HTTPBearer(auto_error=False, description="A token from POST /v1/tokens or /v1/operators")


# The dependencies are coroutines that never block: a synchronous one would cost a thread-pool
# hop each, and a command should cost one (its endpoint's).


async def get_runtime(request: Request) -> Runtime:
    return request.app.state.runtime


async def get_app(request: Request) -> Switchboard:
    return request.app.state.runtime.app


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
AppDep = Annotated[Switchboard, Depends(get_app)]


READS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_principal(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, from the bearer token: all of authentication is here, in one call."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    token = credentials.credentials
    admin_token = runtime.config.admin_token
    if admin_token is not None and same_token(token, admin_token.get_secret_value()):
        return Principal(role="admin", name="admin")
    # An action (not a read) keeps a session alive, as a heartbeat does.
    principal = runtime.app.authenticate(token, acting=request.method not in READS)
    if principal is None:
        raise unauthorized("unknown or revoked token")
    return principal


async def caller(
    request: Request,
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """``current_principal`` in the thread pool: it reads the log's head (a revocation in any
    process holds on the next request), so it is not answered from memory alone."""
    return await run_in_threadpool(current_principal, request, runtime, credentials)


CurrentUser = Annotated[Principal, Depends(caller)]


def require(*roles: str):
    """A dependency that lets only the given roles through (403 otherwise)."""

    async def check(principal: CurrentUser) -> Principal:
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


def wait_for_read_model(runtime: Runtime, name: str, min_position: int | None) -> None:
    """Read-your-writes: block (bounded) until read model ``name`` reaches ``min_position``.

    A position beyond the log's head is refused at once: no write has reached it yet, so
    waiting cannot help (the head is read only when the read model is behind).
    """
    if not min_position or runtime.wait_for(name, min_position, 0):
        return
    head = runtime.app.head() or 0
    if min_position > head:
        raise ApiError(
            422, "bad_position", f"position {min_position} is beyond the event log's head {head}"
        )
    if not runtime.wait_for(name, min_position, runtime.config.read_wait_s):
        raise ApiError(
            504,
            "timeout",
            f"read model {name} did not reach position {min_position} "
            f"within {runtime.config.read_wait_s:g}s",
        )


def positioned(response: Response, done: Done) -> None:
    """Every command's response says which log position it reached."""
    if done.position is not None:
        response.headers["X-Position"] = str(done.position)
