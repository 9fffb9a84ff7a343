"""The Events read model's tables: the Events, what it keeps to derive them, the webhooks;
and the delivery outbox, which lives beside the read models and outlives their rebuilds."""

from __future__ import annotations

from projections.machinery.readmodel import Index, Table

EVENTS = Table(
    "events",
    """
            position bigint PRIMARY KEY,
            id text NOT NULL UNIQUE,
            type text NOT NULL,
            chat_id uuid NOT NULL,
            external_id text NOT NULL,
            bot text,
            occurred_at timestamptz NOT NULL,
            operator jsonb,
            data jsonb NOT NULL
            """,
    (Index("events_bot_position", "(bot, position)"),),
)

# What the Events need and the log gives elsewhere: kept here (a read model reads no other's).
EVENT_CHATS = Table(
    "event_chats",
    """
            id uuid PRIMARY KEY,
            external_id text NOT NULL,
            bot text,
            operator_id uuid
            """,
)
EVENT_OPERATORS = Table("event_operators", "id uuid PRIMARY KEY, first_name text NOT NULL")
EVENT_MESSAGES = Table(
    "event_messages",
    "id uuid PRIMARY KEY, chat_id uuid NOT NULL, message jsonb NOT NULL",
    # Retention drops a closed chat's messages (``retention.py``); the follower reads by id.
    (Index("event_messages_chat", "(chat_id)"),),
)

WEBHOOKS = Table(
    "webhooks",
    """
            id uuid PRIMARY KEY,
            url text NOT NULL,
            events text[] NOT NULL,
            bot text,
            description text,
            secret text NOT NULL,
            previous_secret text,
            previous_until timestamptz,
            active boolean NOT NULL,
            created_at timestamptz NOT NULL
            """,
)

TABLES = (EVENTS, EVENT_CHATS, EVENT_OPERATORS, EVENT_MESSAGES, WEBHOOKS)

# One row per (webhook, Event): scheduled by the read model in the transaction that records
# its position, then worked by the sender. Outside the read model's schema, so that
# rebuilding the read model neither forgets what was delivered nor sends it all again.
OUTBOX_SCHEMA = "outbox"
DELIVERIES = f"{OUTBOX_SCHEMA}.deliveries"
# The position up to which retention pruned the deliveries: never scheduled again.
PRUNED = f"{OUTBOX_SCHEMA}.pruned"
OUTBOX_DDL = (
    f"CREATE SCHEMA IF NOT EXISTS {OUTBOX_SCHEMA}",
    f"""CREATE TABLE IF NOT EXISTS {DELIVERIES} (
            webhook_id uuid NOT NULL,
            position bigint NOT NULL,
            event_id text NOT NULL,
            chat_id uuid NOT NULL,
            type text NOT NULL,
            status text NOT NULL DEFAULT 'pending',
            attempts integer NOT NULL DEFAULT 0,
            next_attempt_at timestamptz NOT NULL DEFAULT now(),
            leased_until timestamptz,
            last_status_code integer,
            last_error text,
            delivered_at timestamptz,
            scheduled_by bigint NOT NULL,
            PRIMARY KEY (webhook_id, position)
        )""",
    f"CREATE INDEX IF NOT EXISTS deliveries_due ON {DELIVERIES} (next_attempt_at) "
    "WHERE status = 'pending'",
    f"CREATE INDEX IF NOT EXISTS deliveries_chat ON {DELIVERIES} (webhook_id, chat_id, position) "
    "WHERE status = 'pending'",
    f"CREATE INDEX IF NOT EXISTS deliveries_status ON {DELIVERIES} (webhook_id, status, position)",
    # Retention deletes by position, across webhooks.
    f"CREATE INDEX IF NOT EXISTS deliveries_position ON {DELIVERIES} (position)",
    f"""CREATE TABLE IF NOT EXISTS {PRUNED} (
            id boolean PRIMARY KEY DEFAULT true CHECK (id),
            upto bigint NOT NULL
        )""",
)
