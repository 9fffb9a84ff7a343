"""Use cases of admins and supervisors: groups, operators, statuses and tokens."""

from __future__ import annotations

import time
from dataclasses import dataclass
from uuid import UUID, uuid4

from application.auth import Principal, hash_token, new_token
from application.base import SwitchboardBase
from application.errors import Forbidden, NotFound, UnknownReference
from application.ports import Done
from application.retry import retry_on_conflict
from domain.access import ApiToken
from domain.group import NAME_RESERVATION as GROUP_NAME
from domain.group import Group
from domain.group import name_key as _name_key
from domain.operator import Operator

EMAIL = "email"
PRINCIPAL_CACHE_S = 5.0


@dataclass(frozen=True)
class IssuedToken:
    token: str
    role: str
    name: str
    operator_id: UUID | None


def _email_key(email: str) -> str:
    return email.strip().lower()


class StaffCommands(SwitchboardBase):
    # -- groups -------------------------------------------------------------------------------

    @retry_on_conflict
    def create_group(
        self,
        *,
        actor: str,
        name: str,
        description: str = "",
        sl_first_response_s: int | None = None,
        sl_next_response_s: int | None = None,
        routing: str = "auto",
    ) -> Done[Group]:
        group_id = uuid4()
        optional = {
            key: value
            for key, value in (
                ("sl_first_response_s", sl_first_response_s),
                ("sl_next_response_s", sl_next_response_s),
            )
            if value is not None
        }
        group = Group.create(
            group_id=group_id,
            at=self.clock.now(),
            actor=actor,
            name=name,
            description=description,
            routing=routing,
            **optional,
        )
        name_claim = self._claim(GROUP_NAME, _name_key(group.name), group.id, actor=actor)
        return Done(group, self._saved(group, name_claim))

    def get_group(self, group_id: UUID) -> Group:
        group = self._get(Group, group_id)
        if group.deleted:
            raise NotFound(f"group {group_id} is deleted")
        return group

    @retry_on_conflict
    def update_group(self, group_id: UUID, *, actor: str, **changes) -> Done[Group]:
        group = self.get_group(group_id)
        old_name = group.name
        changed = group.update(at=self.clock.now(), actor=actor, **changes)
        claims = []
        if _name_key(group.name) != _name_key(old_name):
            claims.append(self._claim(GROUP_NAME, _name_key(group.name), group.id, actor=actor))
            claims.append(self._release(GROUP_NAME, _name_key(old_name), group.id, actor=actor))
        if not changed:
            return Done(group, self.head(), recorded=False)
        return Done(group, self._saved(group, *claims))

    @retry_on_conflict
    def delete_group(self, group_id: UUID, *, actor: str) -> Done[None]:
        """Delete a group; its operators stay, unlinked from it, in the same transaction."""
        group = self.get_group(group_id)
        at = self.clock.now()
        group.delete(at=at, actor=actor)
        self.routing.view.catch_up(timeout=2.0)
        members = []
        for operator_id in self.routing.view.group_members(group_id):
            operator = self._find(Operator, operator_id)
            if operator is None or not operator.active or group_id not in operator.group_ids:
                continue
            remaining = [g for g in operator.group_ids if g != group_id]
            operator.change_groups(remaining, at=at, actor=actor)
            members.append(operator)
        name_release = self._release(GROUP_NAME, _name_key(group.name), group.id, actor=actor)
        return Done(None, self._saved(group, name_release, *members))

    # -- operators ----------------------------------------------------------------------------

    @retry_on_conflict
    def register_operator(
        self,
        *,
        actor: str,
        first_name: str,
        last_name: str,
        email: str,
        role: str = "operator",
        group_ids: list[UUID] | None = None,
        max_chats: int | None = None,
        auto_logout_s: int = 0,
    ) -> Done[tuple[Operator, str]]:
        group_ids = list(group_ids or [])
        self._check_groups(group_ids)
        at = self.clock.now()
        optional = {} if max_chats is None else {"max_chats": max_chats}
        operator = Operator.register(
            operator_id=uuid4(),
            at=at,
            actor=actor,
            first_name=first_name,
            last_name=last_name,
            email=email.strip(),
            role=role,
            group_ids=group_ids,
            auto_logout_s=auto_logout_s,
            **optional,
        )
        email_claim = self._claim(EMAIL, _email_key(email), operator.id, actor=actor)
        secret = new_token()
        token = ApiToken.issue(
            token_hash=hash_token(secret),
            role=role,
            name=operator.email,
            operator_id=operator.id,
            at=at,
            actor=actor,
        )
        return Done((operator, secret), self._saved(operator, email_claim, token))

    def get_operator(self, operator_id: UUID) -> Operator:
        return self._get(Operator, operator_id)

    @retry_on_conflict
    def update_operator(
        self,
        operator_id: UUID,
        *,
        actor: str,
        group_ids: list[UUID] | None = None,
        max_chats: int | None = None,
        **profile,
    ) -> Done[Operator]:
        operator = self.get_operator(operator_id)
        at = self.clock.now()
        claims = []
        new_email = profile.get("email")
        if new_email is not None and _email_key(new_email) != _email_key(operator.email):
            claims.append(self._claim(EMAIL, _email_key(new_email), operator.id, actor=actor))
            claims.append(
                self._release(EMAIL, _email_key(operator.email), operator.id, actor=actor)
            )
            profile["email"] = new_email.strip()
        changed = operator.update_profile(at=at, actor=actor, **profile)
        if group_ids is not None:
            self._check_groups(group_ids)
            changed = operator.change_groups(group_ids, at=at, actor=actor) or changed
        if max_chats is not None:
            changed = operator.change_capacity(max_chats, at=at, actor=actor) or changed
        if not changed:
            return Done(operator, self.head(), recorded=False)
        return Done(operator, self._saved(operator, *claims))

    @retry_on_conflict
    def set_status(self, operator_id: UUID, status: str, *, caller: Principal) -> Done[Operator]:
        if not caller.supervises and caller.operator_id != operator_id:
            raise Forbidden("operators set their own status; supervisors anyone's")
        operator = self.get_operator(operator_id)
        if not operator.change_status(status, at=self.clock.now(), actor=caller.actor):
            return Done(operator, self.head(), recorded=False)
        return Done(operator, self._saved(operator))

    # -- tokens -------------------------------------------------------------------------------

    @retry_on_conflict
    def issue_token(
        self, *, role: str, name: str, operator_id: UUID | None, actor: str
    ) -> Done[IssuedToken]:
        if operator_id is not None:
            # A staff token acts as its operator, in the role the operator has at each call.
            operator = self._find(Operator, operator_id)
            if operator is None:
                raise UnknownReference(f"no operator {operator_id}")
            role = operator.role
        secret = new_token()
        token = ApiToken.issue(
            token_hash=hash_token(secret),
            role=role,
            name=name,
            operator_id=operator_id,
            at=self.clock.now(),
            actor=actor,
        )
        issued = IssuedToken(secret, token.role, token.name, operator_id)
        return Done(issued, self._saved(token))

    def authenticate(self, secret: str) -> Principal | None:
        """The caller behind a token, or None. Cached for a few seconds per token."""
        token_id = ApiToken.id_for_hash(hash_token(secret))
        now = time.monotonic()
        cached = self._principals.get(token_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        principal = self._principal_for(token_id)
        if len(self._principals) > 10_000:
            self._principals.clear()
        self._principals[token_id] = (now + PRINCIPAL_CACHE_S, principal)
        return principal

    def _principal_for(self, token_id: UUID) -> Principal | None:
        token = self._find(ApiToken, token_id)
        if token is None or token.revoked:
            return None
        if token.operator_id is None:
            return Principal(role=token.role, name=token.name)
        # Staff act in the role their operator has now, and lose access when deactivated.
        operator = self._find(Operator, token.operator_id)
        if operator is None or not operator.active:
            return None
        return Principal(role=operator.role, name=token.name, operator_id=operator.id)
