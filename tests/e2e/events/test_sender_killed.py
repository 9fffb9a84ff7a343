"""The worker SIGKILLed in the middle of deliveries: every Event still arrives (at least once),
in order per chat, from the worker that takes over."""

from __future__ import annotations

import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ServerProcess, Setup, WorkerProcess, stop_cleanly
from tests.e2e.events.helpers import FAST_WEBHOOKS, all_events, bot_and_operator, register, story
from tests.e2e.receiver import Receiver

SLOW_ANSWER_S = 0.05


def test_a_sigkilled_worker_loses_no_event(module_database_url: str, tmp_path: Path) -> None:
    api = ServerProcess(
        module_database_url, tmp_path, extra_env=FAST_WEBHOOKS, args=["--worker", "external"]
    )
    worker = WorkerProcess(module_database_url, tmp_path, extra_env=FAST_WEBHOOKS)

    def answer(event: dict[str, Any]) -> int:
        time.sleep(SLOW_ANSWER_S)  # a receiver that takes its time: deliveries are in flight
        return 200

    receiver = Receiver(answer=answer).start()
    api.start()
    worker.start()
    try:
        with api.client(api.admin_token) as admin:
            setup = Setup(admin=admin, make_client=api.client)
            bot_name, bot, _, staff = bot_and_operator(setup)
            hook = register(admin, receiver.url, bot=bot_name)
            receiver.secret = hook["secret"]
            stories = [story(bot, staff, messages=4) for _ in range(3)]
            expected = all_events(bot, max(p for _, p in stories))
            ids = {e["id"] for e in expected}
            assert receiver.wait_for(lambda got: len(got) >= 5, 30), "deliveries started"
            worker.kill()
            arrived = len(receiver.requests)
            assert arrived < len(ids), "killed in the middle of the deliveries"
            worker.start()
            assert receiver.wait_for(lambda got: ids <= {d.event["id"] for d in got}, 60), (
                f"lost: {len(ids - {d.event['id'] for d in receiver.requests})} Events"
            )
            assert all(d.valid for d in receiver.requests)
            firsts: dict[str, list[int]] = defaultdict(list)
            seen: set[str] = set()
            for delivery in receiver.requests:
                if delivery.event["id"] not in seen:
                    seen.add(delivery.event["id"])
                    firsts[delivery.event["chat_id"]].append(delivery.event["position"])
            for positions in firsts.values():
                assert positions == sorted(positions), "in order per chat, across the kill"
            for chat_id, _ in stories:
                assert chat_id in firsts
            log = admin.get(f"/v1/webhooks/{hook['id']}/deliveries", params={"limit": 500})
            assert {row["event_id"] for row in log.json()["items"]} == ids
    finally:
        receiver.stop()
        worker.kill()
        if api.process is not None:
            stop_cleanly(api)
