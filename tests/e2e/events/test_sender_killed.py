"""The worker SIGKILLed in the middle of deliveries: every Event still arrives (at least once),
in order per chat, from the worker that takes over; and the worker's sender process does not
outlive it, killed or stopped."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ServerProcess, Setup, WorkerProcess, stop_cleanly
from tests.e2e.events.helpers import FAST_WEBHOOKS, all_events, bot_and_operator, register, story
from tests.e2e.receiver import Receiver

SLOW_ANSWER_S = 0.05


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (from /proc): with a sender process, the sender
    and multiprocessing's resource tracker."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def is_sender(pid: int) -> bool:
    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
        return b"spawn_main" in cmdline.read()


def ended(pid: int, timeout: float) -> bool:
    """Whether process ``pid`` has exited (a zombie waiting to be reaped counts) in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except OSError:
            return True
        time.sleep(0.05)  # polling another process's end
    return False


# One sender process (the default), and two claiming in turn (SWITCHBOARD_WEBHOOK_SENDERS).
@pytest.mark.parametrize("senders", [1, 2])
def test_a_sigkilled_worker_loses_no_event(
    module_database_url: str, tmp_path: Path, senders: int
) -> None:
    env = {**FAST_WEBHOOKS, "SWITCHBOARD_WEBHOOK_SENDERS": str(senders)}
    api = ServerProcess(module_database_url, tmp_path, extra_env=env, args=["--worker", "external"])
    worker = WorkerProcess(module_database_url, tmp_path, extra_env=env)

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
            assert worker.process is not None
            spawned = children(worker.process.pid)
            assert len([pid for pid in spawned if is_sender(pid)]) == senders, spawned
            worker.kill()
            assert all(ended(pid, 10) for pid in spawned), "a child outlived its killed worker"
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


def test_a_stopped_worker_stops_its_senders(module_database_url: str, tmp_path: Path) -> None:
    worker = WorkerProcess(
        module_database_url, tmp_path, extra_env={"SWITCHBOARD_WEBHOOK_SENDERS": "3"}
    )
    worker.start()
    try:
        assert worker.process is not None
        spawned = children(worker.process.pid)
        assert len([pid for pid in spawned if is_sender(pid)]) == 3, spawned
        assert worker.stop() == 0
        assert all(ended(pid, 5) for pid in spawned)
    finally:
        worker.kill()


def test_the_sender_thread_sends_too(module_database_url: str, tmp_path: Path) -> None:
    """``SWITCHBOARD_WEBHOOK_SENDER=thread``: no process of its own, the same deliveries."""
    env = {**FAST_WEBHOOKS, "SWITCHBOARD_WEBHOOK_SENDER": "thread"}
    worker = WorkerProcess(module_database_url, tmp_path, extra_env=env)
    api = ServerProcess(module_database_url, tmp_path, extra_env=env, args=["--worker", "external"])
    receiver = Receiver().start()
    api.start()
    worker.start()
    try:
        assert worker.process is not None
        assert children(worker.process.pid) == []
        with api.client(api.admin_token) as admin:
            setup = Setup(admin=admin, make_client=api.client)
            bot_name, bot, _, staff = bot_and_operator(setup)
            hook = register(admin, receiver.url, bot=bot_name)
            receiver.secret = hook["secret"]
            _, head = story(bot, staff, messages=2)
            ids = {e["id"] for e in all_events(bot, head)}
            assert receiver.wait_for(lambda got: ids <= {d.event["id"] for d in got}, 30)
            assert all(d.valid for d in receiver.requests)
    finally:
        receiver.stop()
        worker.kill()
        stop_cleanly(api)
