"""``switchboard demo``: groups, operators, a bot and chats in every state, to look at.

Everything goes through the application's commands, as the API would send them, so the demo
data is ordinary data: the read models, history and reports show it like any other.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from application.app import Switchboard
from application.auth import Principal

ADMIN = Principal("admin", "demo")
GROUPS = (("Sales", 60, 120), ("Support", 120, 300))
OPERATORS = (
    ("Anna", "Ivanova", "Sales"),
    ("Boris", "Petrov", "Sales"),
    ("Clara", "Smirnova", "Support"),
    ("Denis", "Orlov", "Support"),
)
TOPICS = (("billing", "refund"), ("delivery", "late"), ("account", "password"), (None, None))
CLIENT_LINES = (
    "Hi, I was charged twice this month",
    "Where is my parcel? It is three days late",
    "I cannot log in since yesterday",
    "Can I change my tariff?",
)


@dataclass
class Demo:
    tokens: dict[str, str] = field(default_factory=dict)  # who -> token, shown once
    chats: int = 0


def seed(
    app: Switchboard,
    *,
    chats: int,
    settle: Callable[[], None] = lambda: None,
    seed: int | None = None,
) -> Demo:
    """Two groups, four working operators (one supervisor), a bot, and ``chats`` handoffs:
    some waiting for their operator, some intercepted and answered, some closed and rated.

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
    for n, (first, last, group) in enumerate(OPERATORS):
        operator, token = app.register_operator(
            actor=ADMIN.actor,
            first_name=first,
            last_name=last,
            email=f"{first.lower()}.{suffix}@demo.example",
            role="supervisor" if n == 0 else "operator",
            group_ids=[groups[group]],
            max_chats=20,
        ).value
        caller = Principal(operator.role, first, operator.id)
        app.set_status(operator.id, "working", caller=caller)
        staff.append(caller)
        demo.tokens[f"{operator.role} {first} {last}"] = token
    bot = Principal("bot", f"demo-bot-{suffix}")
    demo.tokens["bot"] = app.issue_token(
        role="bot", name=bot.name, operator_id=None, actor=ADMIN.actor
    ).value.token
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
