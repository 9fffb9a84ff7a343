"""The recorder's one-statement read of the log's head and the events of some topics since a
position: what each request checks before it trusts a cached grant (revocations, deactivations).
"""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from infrastructure.recorder import OneStatementRecorder
from tests.integration.test_recorder_tailing import recorder_for


@pytest.mark.parametrize("choice", ["single", "grouped"])
def test_head_and_the_topics_events_since_a_position_in_one_read(
    database_url: str, choice: str
) -> None:
    with recorder_for(database_url, choice, pool_size=2) as recorder:
        assert isinstance(recorder, OneStatementRecorder)
        assert recorder.select_topics_since(0, ["t:Revoked"], 10) == (0, [])

        revoked, other = uuid4(), uuid4()
        ids = []
        for originator, topic in [
            (other, "t:Other"),
            (revoked, "t:Revoked"),
            (other, "t:Other"),
            (revoked, "t:Deactivated"),
        ]:
            ids += (
                recorder.insert_events([StoredEvent(originator, len(ids) + 1, topic, b"{}")]) or []
            )
        head = ids[-1]

        found = recorder.select_topics_since(0, ["t:Revoked", "t:Deactivated"], 10)
        assert found == (head, [(ids[1], revoked), (ids[3], revoked)])
        # Only what comes after the position, and at most ``limit`` of them.
        assert recorder.select_topics_since(ids[1], ["t:Revoked", "t:Deactivated"], 10) == (
            head,
            [(ids[3], revoked)],
        )
        assert recorder.select_topics_since(0, ["t:Revoked", "t:Deactivated"], 1) == (
            head,
            [(ids[1], revoked)],
        )
        # Nothing of those topics since the head: the head alone.
        assert recorder.select_topics_since(head, ["t:Revoked"], 10) == (head, [])
