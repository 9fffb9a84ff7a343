"""What operators do about themselves: their names and password, the heartbeat."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from api.deps import AppDep, Staff, positioned
from api.schemas import OperatorOut
from api.schemas.accounts import MePatch
from api.views import operator_out

router = APIRouter(prefix="/v1", tags=["operators"])


@router.patch("/me", response_model=OperatorOut)
def update_me(body: MePatch, app: AppDep, caller: Staff, response: Response) -> OperatorOut:
    """Change one's own names, and one's password (with ``current_password``)."""
    done = app.update_me(caller, **body.model_dump(exclude_unset=True))
    positioned(response, done)
    return operator_out(done.value)


@router.post("/me/heartbeat", status_code=status.HTTP_204_NO_CONTENT)
def heartbeat(app: AppDep, caller: Staff) -> None:
    """The operator's screen is open: keeps them from being marked absent and keeps their
    session alive (``auto_logout_s``)."""
    app.heartbeat(caller)
