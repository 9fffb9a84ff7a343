"""The clients read model's table: a row per client card, with the fields staff search on.

The searched fields are generated from the card's profile, so a row can never disagree with
itself; lowercase copies serve case-insensitive search.
"""

from __future__ import annotations

from projections.machinery.readmodel import Index, Table

CLIENTS = Table(
    "clients",
    """
            id uuid PRIMARY KEY,
            channel text NOT NULL,
            external_id text NOT NULL,
            profile jsonb NOT NULL,
            tags text[] NOT NULL DEFAULT '{}',
            blocked boolean NOT NULL DEFAULT false,
            blocked_reason text,
            notes jsonb NOT NULL DEFAULT '[]',
            chats uuid[] NOT NULL DEFAULT '{}',
            first_seen_at timestamptz NOT NULL,
            last_seen_at timestamptz NOT NULL,
            name text GENERATED ALWAYS AS (lower(profile->>'name')) STORED,
            username text GENERATED ALWAYS AS (lower(profile->>'username')) STORED,
            phone text GENERATED ALWAYS AS (profile->>'phone') STORED,
            email text GENERATED ALWAYS AS (lower(profile->>'email')) STORED
            """,
    (
        # Recently seen first, for every filter: each index ends in the sort key.
        Index("clients_recent", "(last_seen_at DESC, id DESC)"),
        Index("clients_phone", "(phone, last_seen_at DESC, id DESC) WHERE phone IS NOT NULL"),
        Index("clients_email", "(email) WHERE email IS NOT NULL"),
        Index("clients_username", "(username) WHERE username IS NOT NULL"),
        Index("clients_tags", "USING gin (tags)"),
    ),
)

TABLES = (CLIENTS,)
