"""The clients read model's tables: a row per client card, and the terms ``q`` searches
(``terms.py`` says which), a row per (term, card).

The phone (the exact ``phone=`` filter) is generated from the card's profile, so a row can
never disagree with itself. The card's terms are kept twice, on purpose: as rows of
``client_terms``, whose btree finds the few cards that begin with a rare word, and as an array
on the card, which a walk through the cards in last-seen order checks for a common one
(``queries.py`` says which is used when).
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
            terms text[] COLLATE "C" NOT NULL DEFAULT '{}',
            phone text GENERATED ALWAYS AS (profile->>'phone') STORED
            """,
    (
        # Recently seen first, for every filter: each index ends in the sort key.
        Index("clients_recent", "(last_seen_at DESC, id DESC)"),
        Index("clients_phone", "(phone, last_seen_at DESC, id DESC) WHERE phone IS NOT NULL"),
        Index("clients_tags", "USING gin (tags)"),
    ),
)

# "Begins with" on a btree: the C collation orders by bytes, so LIKE 'word%' is a range scan.
CLIENT_TERMS = Table(
    "client_terms",
    """
            term text COLLATE "C" NOT NULL,
            client_id uuid NOT NULL,
            PRIMARY KEY (term, client_id)
            """,
)

TABLES = (CLIENTS, CLIENT_TERMS)
