"""The reports' tables, declared as data.

Raw rows: ``sla_facts`` (one per stopped response clock), ``report_chats`` (one per chat),
``operator_activity`` (one per status interval of an operator); each chat's running clocks
between batches (``sla_chat_state``) and each group's service levels (``report_groups``).
The roll-up (``rollup.py``): per UTC hour and scope, the facts by the hour their clock
stopped, and the chats by the hour they were requested or closed.
"""

from __future__ import annotations

from projections.machinery.readmodel import Index, Table
from projections.machinery.service_levels import service_level_table
from projections.reports.rollup import OPERATOR

# The roll-up (rollup.py): per UTC hour and scope, the facts by the hour their clock stopped,
# and the chats by the hour they were requested (requested, queue) or closed (closed,
# abandoned, CSAT). Its scopes are part of its shape: a new kind of scope changes the DDL's
# comment, so that an upgrade rebuilds the roll-up.
_RESPONSE_HOURS = """
        scope text NOT NULL, -- all, none, a group, operator:<id>, operator:<id>:<group>
        hour timestamptz NOT NULL,
        kind text NOT NULL,
        answered integer NOT NULL,
        within_sl integer NOT NULL,
        duration_us bigint NOT NULL,
        max_s double precision,
        unanswered integer NOT NULL,
        histogram_from smallint NOT NULL,
        histogram bytea NOT NULL,
        PRIMARY KEY (scope, hour, kind)
        """
_CHAT_HOURS = """
        scope text NOT NULL, -- all, none, a group, operator:<id>, operator:<id>:<group>
        hour timestamptz NOT NULL,
        requested integer NOT NULL,
        queue_left integer NOT NULL,
        queue_wait_us bigint NOT NULL,
        waiting integer NOT NULL,
        closed integer NOT NULL,
        abandoned integer NOT NULL,
        rated integer NOT NULL,
        rating_sum integer NOT NULL,
        score_1 integer NOT NULL,
        score_2 integer NOT NULL,
        score_3 integer NOT NULL,
        score_4 integer NOT NULL,
        score_5 integer NOT NULL,
        queue_wait_max_s double precision,
        PRIMARY KEY (scope, hour)
        """


def hours_tables(scope: str) -> tuple[str, str]:
    """The roll-up's tables of a scope: its responses' hours, its chats' hours."""
    if scope.startswith(OPERATOR):
        return "report_operator_response_hours", "report_operator_chat_hours"
    return "report_response_hours", "report_chat_hours"


TABLES = (
    Table(
        "sla_facts",
        """
        chat_id uuid NOT NULL,
        number integer NOT NULL,
        kind text NOT NULL,
        group_id uuid,
        operator_id uuid,
        started_at timestamptz NOT NULL,
        stopped_at timestamptz NOT NULL,
        duration_s double precision NOT NULL,
        duration_bucket smallint NOT NULL,
        sl_s integer NOT NULL,
        within_sl boolean NOT NULL,
        answered boolean NOT NULL,
        PRIMARY KEY (chat_id, number)
        """,
        (
            Index("sla_facts_stopped", "(stopped_at)"),
            Index("sla_facts_group", "(group_id, stopped_at)"),
            Index("sla_facts_operator", "(operator_id, stopped_at)"),
        ),
    ),
    Table(
        "sla_chat_state",
        """
        chat_id uuid PRIMARY KEY,
        state jsonb NOT NULL
        """,
    ),
    service_level_table("report_groups"),
    Table(
        "report_chats",
        """
        id uuid PRIMARY KEY,
        group_id uuid,
        operator_id uuid,
        requested_at timestamptz NOT NULL,
        closed_at timestamptz,
        operator_replied boolean NOT NULL DEFAULT false,
        rating smallint,
        queued boolean NOT NULL DEFAULT false,
        queued_since timestamptz,
        queue_wait_s double precision NOT NULL DEFAULT 0
        """,
        (
            # Also the roll-up's recount of a maximum wait (upkeep.write_chat_hours).
            Index("report_chats_requested", "(requested_at)", while_loading=True),
            Index("report_chats_closed", "(closed_at) WHERE closed_at IS NOT NULL"),
            Index("report_chats_group", "(group_id, requested_at)"),
            Index("report_chats_operator", "(operator_id, requested_at)"),
        ),
    ),
    # The roll-up (rollup.py): per UTC hour and scope, the facts by the hour their clock
    # stopped, and the chats by the hour they were requested (requested, queue) or closed
    # (closed, abandoned, CSAT). Its scopes are part of its shape: a new kind of scope
    # changes the DDL's comment, so that an upgrade rebuilds the roll-up.
    Table("report_response_hours", _RESPONSE_HOURS),
    Table("report_chat_hours", _CHAT_HOURS),
    # The operators' scopes apart: they are most of the roll-up's rows, and a report over a
    # group or all groups reads its scope's hours without stepping over theirs.
    Table("report_operator_response_hours", _RESPONSE_HOURS),
    Table("report_operator_chat_hours", _CHAT_HOURS),
    Table(
        "operator_activity",
        """
        operator_id uuid NOT NULL,
        number integer NOT NULL,
        status text NOT NULL,
        started_at timestamptz NOT NULL,
        ended_at timestamptz,
        PRIMARY KEY (operator_id, number)
        """,
        (Index("operator_activity_period", "(started_at, ended_at)"),),
    ),
)
