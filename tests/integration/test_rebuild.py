"""`switchboard projections rebuild`: a read model rebuilt beside the live one and swapped in
while commands go on, equal row for row to a rebuild from nothing."""

from __future__ import annotations

import threading

import psycopg
import pytest

from infrastructure.operations import read_model_status
from projections.machinery.rebuild import (
    STAGING_SCHEMA,
    Progress,
    rebuild_together,
    table_names,
)
from tests.clock import FakeClock
from tests.integration.test_exactly_once import (
    ADMIN,
    SUPERVISOR,
    assert_read_models_match_the_aggregates,
    caught_up,
    running,
    snapshot,
    some_traffic,
    staff,
)

REBUILT = ("directory", "dashboard")
ALL_REBUILT = ("directory", "dashboard", "history", "reports", "clients")


def test_table_names_are_read_from_the_read_models_own_ddl(database_url: str) -> None:
    with running(database_url, FakeClock(), projections=False) as container:
        assert table_names(container.dashboard) == [
            "dashboard_chats",
            "dashboard_departures",
            "dashboard_clients",
            "dashboard_group_sl",
            "dashboard_groups",
            "dashboard_tracking",
        ]
        assert table_names(container.directory) == [
            "operators",
            "groups",
            "tokens",
            "directory_tracking",
        ]


@pytest.mark.parametrize("together", [False, True], ids=["one by one", "together"])
def test_a_rebuild_swaps_in_while_commands_and_the_live_runner_go_on(
    database_url: str, together: bool
) -> None:
    clock = FakeClock()
    with running(database_url, clock) as container:
        app = container.app
        sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
        support = app.create_group(actor=ADMIN.actor, name="Support").value.id
        staff(app, "alice@example.com", [sales], max_chats=6)
        staff(app, "bob@example.com", [sales, support], max_chats=6)
        chats = some_traffic(app, clock, "before", [sales, support], 40)
        caught_up(container)

        # Commands keep coming from another thread while the rebuild runs.
        stop, during, errors = threading.Event(), [], []

        def traffic() -> None:
            n = 0
            try:
                while not stop.is_set() and n < 60:
                    during.extend(some_traffic(app, clock, f"during-{n}", [support, sales], 1))
                    n += 1
            except Exception as error:  # reported below, in the test's thread
                errors.append(error)

        writer = threading.Thread(target=traffic)
        writer.start()
        staging = container.database.read_store(STAGING_SCHEMA, pool_size=2)
        seen: list[Progress] = []
        try:
            # Small pages and a tight swap margin: catching up runs while writes go on.
            if together:
                models = [container.read_model(name) for name in ALL_REBUILT]
                rebuild_together(
                    models, app, staging, on_progress=seen.append, swap_within=5, page=25
                )
            else:
                for model in (container.directory, container.dashboard):
                    # The API keeps answering from the old tables during the rebuild.
                    assert container.dashboard.rows("all", SUPERVISOR, limit=5)[0]
                    rebuild_together(
                        [model], app, staging, on_progress=seen.append, swap_within=5, page=25
                    )
        finally:
            stop.set()
            writer.join()
            staging.close()
        assert not errors, errors
        rebuilt = ALL_REBUILT if together else REBUILT
        assert {p.model for p in seen} == set(rebuilt)
        assert len(seen) > 2 * len(rebuilt), "the rebuild caught up in several batches"
        assert seen[-1].position == seen[-1].head

        chats += during
        chats += some_traffic(app, clock, "after", [sales], 5)
        caught_up(container)
        assert_read_models_match_the_aggregates(container, chats)
        assert all(row.lag == 0 and row.followed for row in read_model_status(container))
        live = snapshot(database_url)

        with psycopg.connect(database_url) as conn:
            schemas = conn.execute(
                "SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s",
                (STAGING_SCHEMA,),
            ).fetchone()[0]
        assert schemas == 0, "the staging schema is gone after the swap"

    # The same rows as a rebuild from nothing.
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA readmodels CASCADE")
    with running(database_url, clock) as fresh:
        caught_up(fresh)
    scratch = snapshot(database_url)
    for table in live:
        if table.startswith("dispatcher"):
            continue
        assert scratch[table] == live[table], table


@pytest.mark.parametrize("name", REBUILT)
def test_rebuilding_an_idle_model_keeps_its_position(database_url: str, name: str) -> None:
    clock = FakeClock()
    with running(database_url, clock) as container:
        app = container.app
        sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
        staff(app, "alice@example.com", [sales])
        some_traffic(app, clock, "x", [sales], 5)
        head = caught_up(container)
        staging = container.database.read_store(STAGING_SCHEMA, pool_size=2)
        try:
            assert rebuild_together([container.read_model(name)], app, staging) == {name: head}
        finally:
            staging.close()
        assert container.read_model(name).position() == head


def test_a_read_model_whose_tables_changed_shape_is_rebuilt_at_start(database_url: str) -> None:
    """An upgrade that changes a read model's DDL: the next start rebuilds it from the log."""
    clock = FakeClock()
    with running(database_url, clock) as container:
        app = container.app
        sales = app.create_group(actor=ADMIN.actor, name="Sales").value.id
        staff(app, "alice@example.com", [sales])
        chats = some_traffic(app, clock, "x", [sales], 6)
        caught_up(container)
    before = snapshot(database_url)
    with psycopg.connect(database_url, autocommit=True) as conn:
        # As an older version left it: a column the new code does not know, no fingerprint.
        conn.execute("ALTER TABLE readmodels.dashboard_chats ADD COLUMN leftover int DEFAULT 7")
        conn.execute("DELETE FROM readmodels.read_model_schemas WHERE name = 'dashboard'")

    with running(database_url, clock) as upgraded:
        caught_up(upgraded)
        assert_read_models_match_the_aggregates(upgraded, chats)
    after = snapshot(database_url)
    assert after["dashboard_chats"] == before["dashboard_chats"]
    assert "leftover" not in after["dashboard_chats"][0]
