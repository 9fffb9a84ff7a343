"""Company settings: the admin changes them; staff read them (a UI shows what is required)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import STAFF, Admin, AppDep, positioned, require
from api.schemas import SettingsIn, SettingsOut

router = APIRouter(prefix="/v1/settings", tags=["settings"])


@router.get("", response_model=SettingsOut, dependencies=[require(*STAFF)])
def get_settings(app: AppDep) -> SettingsOut:
    return SettingsOut(**app.company_settings())


@router.put("", response_model=SettingsOut)
def put_settings(body: SettingsIn, app: AppDep, caller: Admin, response: Response) -> SettingsOut:
    """Change the settings given in the body; the others keep their values."""
    done = app.change_settings(body.changes(), actor=caller.actor)
    positioned(response, done)
    return SettingsOut(**done.value)
