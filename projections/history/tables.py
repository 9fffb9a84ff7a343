"""History's tables: a row per chat with the facts analysts filter on, and its messages.

The chat row carries a full-text vector of its messages; only the first ``SEARCH_CHARS``
characters of a chat are searchable, which keeps a vector far under PostgreSQL's 1 MB limit
whatever the chat holds.
"""

from __future__ import annotations

from projections.machinery.readmodel import Index, Table

SEARCH_CHARS = 100_000

CHATS = Table(
    "history_chats",
    # Indented as first declared: the shape check hashes the DDL text, so a change rebuilds.
    """
            id uuid PRIMARY KEY,
            external_id text NOT NULL,
            status text NOT NULL,
            group_id uuid,
            operator_id uuid,
            operator_ids uuid[] NOT NULL DEFAULT '{}',
            intercepted boolean NOT NULL DEFAULT false,
            client jsonb NOT NULL,
            client_id text,
            phone text,
            channel text,
            topic text,
            subtopic text,
            requested_at timestamptz NOT NULL,
            closed_at timestamptz,
            close_reason text,
            closed_by jsonb,
            rating smallint,
            message_count integer NOT NULL DEFAULT 0,
            -- All conversation text so far, searchable or not: what decides the cut-off.
            search_chars integer NOT NULL DEFAULT 0,
            search tsvector NOT NULL DEFAULT ''::tsvector
            """,
    (
        # Newest first, for every filter: each index ends in the sort key, so a filtered
        # page is an index range read in order, never a scan and sort of the whole table.
        Index("history_recent", "(requested_at DESC, id DESC)"),
        Index("history_group", "(group_id, requested_at DESC, id DESC)"),
        Index("history_topic", "(topic, requested_at DESC, id DESC) WHERE topic IS NOT NULL"),
        Index(
            "history_subtopic",
            "(subtopic, requested_at DESC, id DESC) WHERE subtopic IS NOT NULL",
        ),
        Index("history_phone", "(phone, requested_at DESC, id DESC) WHERE phone IS NOT NULL"),
        Index(
            "history_channel",
            "(channel, requested_at DESC, id DESC) WHERE channel IS NOT NULL",
        ),
        Index("history_status", "(status, requested_at DESC, id DESC)"),
        Index(
            "history_rating",
            "(rating, requested_at DESC, id DESC) WHERE rating IS NOT NULL",
        ),
        Index("history_operators", "USING gin (operator_ids)"),
        Index("history_search", "USING gin (search)"),
        # A chat's detail lists the same client's previous dialogs.
        Index("history_client", "(client_id, channel, requested_at DESC, id DESC)"),
    ),
)

MESSAGES = Table(
    "history_messages",
    """
            chat_id uuid NOT NULL,
            message_id uuid NOT NULL,
            -- The chat's own order, the same on every rebuild: event version, transcript line.
            version integer NOT NULL,
            line integer NOT NULL,
            author text NOT NULL,
            text text NOT NULL,
            at timestamptz NOT NULL,
            PRIMARY KEY (chat_id, message_id)
            """,
)

TABLES = (CHATS, MESSAGES)
