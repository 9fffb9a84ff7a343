"""The reference connector (examples/connector.py), run as a bot developer would run it:
a console client hands off, an operator answers, the client sees it by webhook or feed."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import ServerProcess, Setup, free_port
from tests.e2e.events.helpers import eventually, webhook_server
from tests.e2e.lifecycle.helpers import named_token, ok

CONNECTOR = Path(__file__).resolve().parents[3] / "examples" / "connector.py"
LINE_WAIT_S = 20.0


@pytest.fixture(scope="module")
def server(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    with webhook_server(module_database_url, tmp_path_factory) as process:
        yield process


class Console:
    """The connector's process, its stdin written and its stdout read line by line."""

    def __init__(self, args: list[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(CONNECTOR), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))

    def type(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def expect(self, start: str) -> str:
        """The next line that starts with ``start`` (the ones before it are passed over)."""
        passed = []
        while True:
            try:
                line = self.lines.get(timeout=LINE_WAIT_S)
            except queue.Empty:
                pytest.fail(f"no line starting {start!r}; saw {passed}")
            if line.startswith(start):
                return line
            passed.append(line)

    def close(self) -> None:
        self.process.kill()
        self.process.wait()


@pytest.mark.parametrize("way", ["webhook", "poll"])
def test_a_console_client_talks_with_an_operator_through_the_connector(
    server: ServerProcess, setup: Setup, way: str
) -> None:
    operator, staff = setup.operator()
    bot_name, bot = named_token(setup, "bot")
    token = bot.headers["Authorization"].removeprefix("Bearer ")
    args = ["--url", server.base_url, "--bot-token", token, "--client-id", f"c-{way}"]
    if way == "webhook":
        args += ["--listen", f"127.0.0.1:{free_port()}", "--admin-token", server.admin_token]
        args += ["--bot-name", bot_name]
    else:
        args += ["--poll"]
    console = Console(args)
    try:
        console.expect("(type a message")
        console.type("my parcel is late")
        chat_id = console.expect("(handed off: chat ").split()[3].rstrip(",")
        ok(staff.post(f"/v1/chats/{chat_id}/intercept"))
        console.expect(f"({operator['first_name']} joined the chat)")
        ok(staff.post(f"/v1/chats/{chat_id}/messages", json={"text": "Let me look"}), 201)
        console.expect(f"[{operator['first_name']}] Let me look")
        console.type("thanks")

        def relayed() -> bool:
            messages = ok(staff.get(f"/v1/chats/{chat_id}/messages"))["items"]
            return any(m["author"] == "client" and m["text"] == "thanks" for m in messages)

        eventually(relayed)
        ok(staff.post(f"/v1/chats/{chat_id}/close", json={"reason": "delivered"}))
        console.expect("(the chat was closed: delivered)")
    finally:
        console.close()
        # The next run's handoff goes to the next run's operator.
        status = {"status": "offline"}
        ok(staff.put(f"/v1/operators/{operator['id']}/status", json=status))
