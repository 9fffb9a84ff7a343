"""Use cases of the admin's company settings."""

from __future__ import annotations

from typing import Any

from application.base import SwitchboardBase
from application.ports import Done
from application.retry import retry_on_conflict
from domain.settings import DEFAULTS, CompanySettings


class SettingsCommands(SwitchboardBase):
    @retry_on_conflict
    def change_settings(self, changes: dict[str, Any], *, actor: str) -> Done[dict[str, Any]]:
        """Change the settings named in ``changes``; the others keep their values."""
        settings = self._find(CompanySettings, CompanySettings.fixed_id())
        current = DEFAULTS | settings.values if settings is not None else DEFAULTS
        default_group = changes.get("default_group_id")
        # A new default group must exist; the same one again (deleted since) is no change.
        if default_group is not None and default_group != current["default_group_id"]:
            self._group_for_reference(default_group)
        at = self.clock.now()
        first = settings is None
        if settings is None:
            settings = CompanySettings.start(at=at, actor=actor)
        changed = settings.change(changes, at=at, actor=actor)
        if not changed and not first:
            return Done(DEFAULTS | settings.values, self.head(), recorded=False)
        return Done(DEFAULTS | settings.values, self._saved(settings))
