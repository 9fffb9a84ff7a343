"""How many test processes ``make test`` starts: ``python -m tests.workers`` prints it.

Each process's tests start servers of their own (API processes, a worker, a webhook sender),
and all of them hold connections to the one PostgreSQL at ``SWITCHBOARD_TEST_DATABASE_URL``:
up to about 46 per test process were seen at once. A server left at PostgreSQL's default
``max_connections = 100`` takes one process (the suite runs serially and slowly, but runs);
200 or more take three. Without that URL each process starts an embedded PostgreSQL of its
own, and three run.
"""

from __future__ import annotations

import os

import psycopg

MOST = 3
CONNECTIONS_EACH = 50  # about 46 seen at the peak, and a margin
KEPT_FREE = 10  # for whoever else uses the server, and its reserved slots


def workers() -> int:
    url = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL")
    if not url:
        return MOST
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            allowed = int(conn.execute("SHOW max_connections").fetchone()[0])
    except psycopg.Error:
        return MOST  # the suite itself says what is wrong with the server
    return max(1, min(MOST, (allowed - KEPT_FREE) // CONNECTIONS_EACH))


if __name__ == "__main__":
    print(workers())
