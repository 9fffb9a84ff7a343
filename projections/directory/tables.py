"""The directory's tables: operators (status, since when, groups, load), groups, tokens."""

from __future__ import annotations

from projections.machinery.readmodel import Index, Table

OPERATORS = Table(
    "operators",
    # Indented as first declared: the shape check hashes the DDL text, so a change rebuilds.
    """
            id uuid PRIMARY KEY,
            first_name text NOT NULL,
            last_name text NOT NULL,
            email text NOT NULL,
            role text NOT NULL,
            group_ids uuid[] NOT NULL,
            max_chats integer NOT NULL,
            status text NOT NULL,
            status_since timestamptz NOT NULL,
            load integer NOT NULL DEFAULT 0,
            last_assigned_at timestamptz,
            active boolean NOT NULL DEFAULT true,
            auto_logout_s integer NOT NULL DEFAULT 0,
            registered_at timestamptz NOT NULL,
            last_active_at timestamptz NOT NULL
            """,
    (Index("operators_group_ids", "USING gin (group_ids)"),),
)

GROUPS = Table(
    "groups",
    """
            id uuid PRIMARY KEY,
            name text NOT NULL,
            description text NOT NULL,
            sl_first_response_s integer NOT NULL,
            sl_next_response_s integer NOT NULL,
            routing text NOT NULL,
            deleted boolean NOT NULL DEFAULT false,
            created_at timestamptz NOT NULL
            """,
)

# Tokens and sessions that have not been revoked (expired sessions are filtered out by time).
TOKENS = Table(
    "tokens",
    """
            id uuid PRIMARY KEY,
            role text NOT NULL,
            name text NOT NULL,
            operator_id uuid,
            created_at timestamptz NOT NULL,
            expires_at timestamptz
            """,
    (Index("tokens_created", "(created_at, id)"),),
)

TABLES = (OPERATORS, GROUPS, TOKENS)
