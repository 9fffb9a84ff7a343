"""The visibility rule (``domain.visibility``) as SQL: the same clauses, rendered as a condition
over a read model's columns, so a query selects exactly the chats ``sees`` accepts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.visibility import HOLDERS, STATUSES, Clause


def visible_where(found: Sequence[Clause], columns: Mapping[str, str]) -> tuple[str, list[Any]]:
    """One SQL condition (with ``%s`` parameters) that holds for the rows any clause admits.

    ``columns`` names the table's column for each fact and for ``"status"``. Statuses are
    written as literals, so that PostgreSQL can match partial indexes even in generic plans.
    """
    terms: list[str] = []
    params: list[Any] = []
    for clause in found:
        if clause.statuses is not None and not clause.statuses:
            continue  # admits nothing
        parts = []
        if clause.statuses is not None:
            parts.append(_status_in(columns["status"], clause.statuses))
        if clause.fact is not None:
            column = columns[clause.fact]
            values = sorted(value for value in clause.values if value is not None)
            if clause.fact == HOLDERS:
                parts.append(f"{column} {'@>' if len(values) == 1 else '&&'} %s::uuid[]")
                params.append(values)
            elif None in clause.values:
                # Unset: the help queue's chats (and, given ids too, theirs as well).
                if values:
                    parts.append(f"({column} IS NULL OR {column} = ANY(%s))")
                    params.append(values)
                else:
                    parts.append(f"{column} IS NULL")
            elif len(values) == 1:
                parts.append(f"{column} = %s")
                params.append(values[0])
            else:
                parts.append(f"{column} = ANY(%s)")
                params.append(values)
        if not parts:
            return "true", []
        terms.append(" AND ".join(parts))
    if not terms:
        return "false", []
    if len(terms) == 1:
        return terms[0], params
    return "(" + " OR ".join(f"({term})" for term in terms) + ")", params


def _status_in(column: str, statuses: frozenset[str]) -> str:
    unknown = statuses - STATUSES
    if unknown:
        raise ValueError(f"not a chat status: {sorted(unknown)}")
    if len(statuses) == 1:
        return f"{column} = '{next(iter(statuses))}'"
    return f"{column} IN ({', '.join(repr(s) for s in sorted(statuses))})"
