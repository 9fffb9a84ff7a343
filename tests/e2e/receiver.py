"""A real HTTP receiver for webhook tests: a small server on a thread, told how to answer.

It verifies each delivery as a receiver would (``standardwebhooks``) and keeps what came.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError


@dataclass
class Delivery:
    event: dict[str, Any]
    headers: dict[str, str]
    valid: bool
    answered: int
    at: float
    body: bytes = b""  # as it came: to verify it with another secret too


@dataclass
class Receiver:
    """``answer(event) -> status`` decides each answer (``"hang"``: never answer in time)."""

    secret: str | None = None
    answer: Callable[[dict[str, Any]], int | str] = lambda event: 200
    hang_s: float = 3.0
    requests: list[Delivery] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                valid = receiver._verify(body, headers)
                event = json.loads(body)
                outcome = receiver.answer(event)
                if outcome == "hang":
                    time.sleep(receiver.hang_s)
                    outcome = 200
                receiver._record(
                    Delivery(event, headers, valid, int(outcome), time.monotonic(), body)
                )
                self.send_response(int(outcome))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hook"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _verify(self, body: bytes, headers: dict[str, str]) -> bool:
        if self.secret is None:
            return False
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            return False
        return True

    def _record(self, delivery: Delivery) -> None:
        with self._arrived:
            self.requests.append(delivery)
            self._arrived.notify_all()

    def wait_for(self, predicate: Callable[[list[Delivery]], bool], timeout: float) -> bool:
        """Wait (on arrivals, not by polling) until ``predicate`` holds for what came."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not predicate(self.requests):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._arrived.wait(remaining)
            return True

    def accepted(self) -> list[dict[str, Any]]:
        with self._arrived:
            return [d.event for d in self.requests if 200 <= d.answered < 300]
