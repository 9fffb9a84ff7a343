"""The dashboard's tables, declared as data, and the columns of its rows."""

from __future__ import annotations

from projections.machinery.readmodel import Index, Table
from projections.machinery.service_levels import service_level_table

PREVIEW_CHARS = 200
# What a tab or the live stream shows of a row.
ROW_COLUMNS = (
    "id, external_id, status, group_id, operator_id, client, client_label, topic, subtopic, "
    "requested_at, closed_at, waiting_since, sl_due_at, overdue, muted, muted_until, rating, "
    "last_message_text, last_message_author, last_message_at, position"
)
# Every column of a row, as a batch keeps it in memory and writes it back once.
COLUMNS = [
    "id",
    "external_id",
    "status",
    "group_id",
    "operator_id",
    "client",
    "client_id",
    "client_label",
    "topic",
    "subtopic",
    "requested_at",
    "closed_at",
    "waiting_since",
    "sl_due_at",
    "overdue",
    "operator_replied",
    "muted",
    "muted_until",
    "intercepted_at",
    "last_activity_at",
    "rating",
    "last_message_id",
    "last_message_text",
    "last_message_author",
    "last_message_at",
    "position",
]
# The columns the visibility rule reads, in the chats and the departures tables.
CHAT_FACTS = {"status": "status", "operator_id": "operator_id", "group_id": "group_id"}
DEPARTURE_FACTS = {"status": "status", "operator_id": "operator_id", "group_id": "group_id"}

TABLES = (
    Table(
        "dashboard_chats",
        """
        id uuid PRIMARY KEY,
        external_id text NOT NULL,
        status text NOT NULL,
        group_id uuid,
        operator_id uuid,
        client jsonb NOT NULL,
        client_id uuid,
        client_label text NOT NULL,
        topic text,
        subtopic text,
        requested_at timestamptz NOT NULL,
        closed_at timestamptz,
        waiting_since timestamptz,
        sl_due_at timestamptz,
        overdue boolean NOT NULL DEFAULT false,
        operator_replied boolean NOT NULL DEFAULT false,
        muted boolean NOT NULL DEFAULT false,
        muted_until timestamptz,
        intercepted_at timestamptz,
        last_activity_at timestamptz NOT NULL,
        rating smallint,
        last_message_id uuid,
        last_message_text text,
        last_message_author text,
        last_message_at timestamptz,
        position bigint NOT NULL
        """,
        (
            # The live stream reads what changed after a position (a client resuming).
            Index("dashboard_position", "(position)"),
            Index("dashboard_mine", "(operator_id, status, requested_at, id)"),
            Index("dashboard_queue", "(group_id, requested_at, id) WHERE status = 'queued'"),
            Index("dashboard_closed", "(closed_at DESC, id DESC) WHERE status = 'closed'"),
            # The queue tab without a group filter, the closed tab for one operator, and the
            # dispatcher's oldest waiting chats.
            Index("dashboard_queue_order", "(requested_at, id) WHERE status = 'queued'"),
            Index(
                "dashboard_closed_operator",
                "(operator_id, closed_at DESC, id DESC) WHERE status = 'closed'",
            ),
            Index("dashboard_all", "(requested_at DESC, id DESC)"),
            # A client card's phone edited: its chats' labels follow.
            Index("dashboard_client", "(client_id)", while_loading=True),
            # The scheduler's deadlines: timed mutes, and active chats going quiet.
            Index("dashboard_mutes", "(muted_until) WHERE muted AND status <> 'closed'"),
            Index("dashboard_activity", "(last_activity_at) WHERE status = 'active'"),
            # Overdue answers: running clocks not yet marked, and the marked ones.
            Index("dashboard_sl_due", "(sl_due_at) WHERE sl_due_at IS NOT NULL AND NOT overdue"),
            Index("dashboard_overdue", "(sl_due_at) WHERE overdue"),
        ),
    ),
    Table(
        "dashboard_departures",
        """
        position bigint NOT NULL,
        chat_id uuid NOT NULL,
        operator_id uuid,
        group_id uuid,
        status text,
        PRIMARY KEY (position, chat_id)
        """,
    ),
    Table(
        "dashboard_clients",
        """
        client_key text PRIMARY KEY,
        number integer NOT NULL,
        phone text
        """,
    ),
    service_level_table("dashboard_group_sl"),
    # Each group's routing, for the dispatcher's queue: it drains no manual or deleted group.
    Table(
        "dashboard_groups",
        """
        group_id uuid PRIMARY KEY,
        routing text NOT NULL,
        deleted boolean NOT NULL DEFAULT false
        """,
    ),
)
