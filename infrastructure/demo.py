"""``switchboard demo``: groups, staff, a bot and chats in every state, to look at, and a
sign-in for each role.

Everything goes through the application's commands, as the API would send them, so the demo
data is ordinary data: the read models, history and reports show it like any other. Staff
accept their invitation with a password, as a new colleague would.
"""

from __future__ import annotations

import random
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from application.app import Switchboard
from application.auth import Principal, hash_token
from domain.access import ApiToken

ADMIN = Principal("admin", "demo")
GROUPS = (("Sales", 60, 120), ("Support", 120, 300))
# Staff: the admin stays offline (no chats); the others start working in their group.
OPERATORS = (
    ("Anna", "Ivanova", "Sales", "supervisor"),
    ("Boris", "Petrov", "Sales", "operator"),
    ("Clara", "Smirnova", "Support", "operator"),
    ("Denis", "Orlov", "Support", "operator"),
)
ADMIN_STAFF = ("Ada", "Admin", None, "admin")
TOKEN_ROLES = ("analyst", "auditor", "bot")  # roles no operator has: they sign in by token
TOPICS = (("billing", "refund"), ("delivery", "late"), ("account", "password"), (None, None))
CLIENT_LINES = (
    "Hi, I was charged twice this month",
    "Where is my parcel? It is three days late",
    "I cannot log in since yesterday",
    "Can I change my tariff?",
)


@dataclass(frozen=True)
class SignIn:
    """How one demo user signs in: an e-mail and a password (staff), else a token."""

    role: str
    name: str
    email: str | None = None
    password: str | None = None
    token: str | None = None


@dataclass
class Demo:
    sign_ins: list[SignIn] = field(default_factory=list)  # shown once
    chats: int = 0


def seed(
    app: Switchboard,
    *,
    chats: int,
    settle: Callable[[], None] = lambda: None,
    seed: int | None = None,
) -> Demo:
    """Two groups, an admin, four working operators (one a supervisor) with passwords,
    analyst, auditor and bot tokens, and ``chats`` handoffs: some waiting for their operator,
    some intercepted and answered, some closed and rated.

    ``settle`` waits until routing sees the operators (the directory read model) before the
    first handoff; without it every chat would wait in a queue.
    """
    rng = random.Random(seed)
    demo = Demo()
    suffix = uuid.uuid4().hex[:6]
    groups = {}
    for name, first_s, next_s in GROUPS:
        group = app.create_group(
            actor=ADMIN.actor,
            name=f"{name} {suffix}",
            sl_first_response_s=first_s,
            sl_next_response_s=next_s,
        ).value
        groups[name] = group.id
    staff = []
    for first, last, group, role in (ADMIN_STAFF, *OPERATORS):
        operator, sign_in = _staff_member(app, first, last, suffix, role, groups.get(group))
        demo.sign_ins.append(sign_in)
        if role != "admin":
            caller = Principal(operator.role, first, operator.id)
            app.set_status(operator.id, "working", caller=caller)
            staff.append(caller)
    for role in TOKEN_ROLES:
        name = f"demo-{role}-{suffix}"
        token = app.issue_token(role=role, name=name, operator_id=None, actor=ADMIN.actor)
        demo.sign_ins.append(SignIn(role, name, token=token.value.token))
    bot = Principal("bot", f"demo-bot-{suffix}")
    settle()
    by_id = {caller.operator_id: caller for caller in staff}
    for n in range(chats):
        topic, subtopic = rng.choice(TOPICS)
        line = rng.choice(CLIENT_LINES)
        chat = app.handoff(
            bot=bot,
            external_id=f"demo-{suffix}-{n}",
            client={"id": f"client-{n}", "channel": rng.choice(("web", "telegram"))}
            | ({"phone": f"+1555{n:07d}"} if n % 3 == 0 else {}),
            topic=topic,
            subtopic=subtopic,
            group_id=rng.choice(list(groups.values())),
            transcript=[
                {"author": "client", "text": line},
                {"author": "bot", "text": "Let me find someone who can help."},
            ],
        ).value
        demo.chats += 1
        holder = by_id.get(chat.operator_id)
        if holder is None or n % 4 == 0:
            continue  # waiting: in a queue, or with an operator who has not intercepted yet
        app.intercept(chat.id, caller=holder)
        app.reply(chat.id, "Let me check that for you.", caller=holder)
        app.relay_client_message(chat.id, "Thank you!", bot=bot)
        if n % 2:
            app.close_chat(chat.id, caller=holder, reason="resolved")
            if n % 3:
                app.rate(chat.id, rng.randint(3, 5), None, bot=bot)
    return demo


def _staff_member(
    app: Switchboard, first: str, last: str, suffix: str, role: str, group_id: uuid.UUID | None
):
    """An operator who has accepted their invitation with a fresh password."""
    enrolled = app.enrol_operator(
        actor=ADMIN.actor,
        first_name=first,
        last_name=last,
        email=f"{first.lower()}.{suffix}@demo.example",
        role=role,
        group_ids=[group_id] if group_id else [],
        max_chats=20,
    ).value
    password = secrets.token_urlsafe(12)
    accepted = app.accept_invitation(enrolled.invite.code, password).value
    # Accepting signs in; that session is the demo's, not theirs: ended at once. So is the
    # token made with the operator (the password is how they come in).
    for secret in (accepted.token, enrolled.token):
        app.revoke_token(ApiToken.id_for_hash(hash_token(secret)), actor=ADMIN.actor)
    operator = enrolled.operator
    return operator, SignIn(role, f"{first} {last}", email=operator.email, password=password)
