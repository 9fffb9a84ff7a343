"""Signing in and out, and accepting an invitation: how staff get a session."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from api.deps import AppDep, CurrentUser, positioned
from api.schemas.accounts import AcceptIn, SessionIn, SignedInOut
from api.views import operator_out
from application.accounts import SignedIn

router = APIRouter(prefix="/v1", tags=["sessions"])

Code = Annotated[str, Path(min_length=1, max_length=200)]


def _signed_in(signed_in: SignedIn) -> SignedInOut:
    return SignedInOut(
        token=signed_in.token,
        expires_at=signed_in.expires_at,
        operator=operator_out(signed_in.operator),
    )


@router.post("/sessions", status_code=status.HTTP_201_CREATED, response_model=SignedInOut)
def sign_in(body: SessionIn, app: AppDep, response: Response) -> SignedInOut:
    """Sign in with an e-mail and a password (no token needed)."""
    done = app.sign_in(body.email, body.password)
    positioned(response, done)
    return _signed_in(done.value)


@router.delete("/sessions/current", status_code=status.HTTP_204_NO_CONTENT)
def sign_out(app: AppDep, caller: CurrentUser, response: Response) -> None:
    """End the session this request is made with."""
    positioned(response, app.sign_out(caller))


@router.post("/invitations/{code}/accept", response_model=SignedInOut)
def accept_invitation(code: Code, body: AcceptIn, app: AppDep, response: Response) -> SignedInOut:
    """Set a password with an invitation code (no token needed); answers a session."""
    done = app.accept_invitation(code, body.password)
    positioned(response, done)
    return _signed_in(done.value)
