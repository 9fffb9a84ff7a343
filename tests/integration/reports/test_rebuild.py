"""The reports read model rebuilt from the log of ``story.py``, one event per batch."""

from __future__ import annotations

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore

from infrastructure.bootstrap import Services
from projections.reports import Reports


def test_a_rebuild_one_event_at_a_time_gives_the_same_rows(container: Services, story) -> None:
    """Batches may end anywhere (and the process stop there): the running clocks are rows."""
    params = container.database.params
    replay_store = PostgresDatastore(
        dbname=params.get("dbname", "postgres"),
        host=params.get("host", "127.0.0.1"),
        port=params.get("port", "5432"),
        user=params.get("user", "postgres"),
        password=params.get("password", ""),
        pool_size=1,
        schema="reports_replay",
    )
    try:
        with replay_store.transaction(commit=True) as curs:
            curs.execute("CREATE SCHEMA reports_replay")
        replay = Reports(replay_store, application_name=container.reports.application_name)
        replay.create_table()
        app = container.app
        for notification in app.recorder.select_notifications(start=1, limit=10_000):
            event = app.mapper.to_domain_event(notification)
            replay.process_batch([(event, Tracking(app.name, notification.id))])
        for table, order in (
            ("sla_facts", "chat_id, number"),
            ("report_chats", "id"),
            ("operator_activity", "operator_id, number"),
            ("sla_chat_state", "chat_id"),
            ("report_response_hours", "scope, hour, kind"),
            ("report_chat_hours", "scope, hour"),
            ("report_operator_response_hours", "scope, hour, kind"),
            ("report_operator_chat_hours", "scope, hour"),
        ):
            assert rows(replay, table, order) == rows(container.reports, table, order), table
        assert rows(replay, "sla_facts", "chat_id") != []
    finally:
        replay_store.close()


def rows(model: Reports, table: str, order: str) -> list[dict]:
    with model.datastore.transaction() as curs:
        curs.execute(f"SELECT * FROM {model.table(table)} ORDER BY {order}")
        return curs.fetchall()
