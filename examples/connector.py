"""A reference connector between a console "client" and Switchboard.

What a channel connector (a messenger bot, a web chat) does, in one small program:
- the client's first line hands the chat off (``POST /v1/chats``); later lines are relayed
  (``POST /v1/chats/{id}/messages``); after the chat is closed, the next line is a new handoff;
- Switchboard's Events come in by webhook (verified with ``standardwebhooks``, deduplicated
  on ``webhook-id``) or, with ``--poll``, from the feed (``GET /v1/events``, long polling);
- operators' messages are shown to the client, and so are the chat's turns (taken, closed).

Run it (see the README, "Bots: Events, webhooks and the feed"):

    python examples/connector.py --url http://127.0.0.1:8000 --bot-token $BOT \\
        --listen 127.0.0.1:8400 --admin-token $ADMIN --bot-name webbot

``--admin-token`` registers the connector's webhook (for this bot's chats) at start-up and keeps
its secret in memory; give ``--secret`` instead to use a webhook registered beforehand.
"""

from __future__ import annotations

import argparse
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook, WebhookVerificationError


class Connector:
    def __init__(self, api: httpx.Client, client_id: str) -> None:
        self.api, self.client_id = api, client_id
        self.chat_id: str | None = None
        self.seen: set[str] = set()  # Event ids already shown: deliveries come at least once
        self.lock = threading.Lock()

    def say(self, line: str) -> None:
        """A line from the client: the handoff, or a message in the open chat."""
        if self.chat_id is None:
            chat = self.api.post(
                "/v1/chats",
                json={
                    "external_id": f"console-{uuid.uuid4().hex[:8]}",
                    "client": {"id": self.client_id, "channel": "console"},
                    "transcript": [{"author": "client", "text": line}],
                },
            )
            chat.raise_for_status()
            self.chat_id = chat.json()["id"]
            show(f"(handed off: chat {self.chat_id}, {chat.json()['status']})")
            return
        sent = self.api.post(f"/v1/chats/{self.chat_id}/messages", json={"text": line})
        if sent.status_code == 409:  # closed meanwhile: this line starts a new chat
            self.chat_id = None
            self.say(line)
            return
        sent.raise_for_status()

    def on_event(self, event: dict[str, Any]) -> None:
        """An Event, by webhook or from the feed: show the client what concerns them."""
        with self.lock:
            if event["id"] in self.seen:
                return
            self.seen.add(event["id"])
        kind, data, operator = event["type"], event["data"], event.get("operator") or {}
        name = operator.get("first_name") or "operator"
        if kind == "message.created" and data["author"] in ("operator", "system"):
            show(f"[{name if data['author'] == 'operator' else 'system'}] {data['text']}")
        elif kind == "message.edited" and data["author"] == "operator":
            show(f"[{name}, edited] {data['text']}")
        elif kind == "message.deleted" and data["author"] == "operator":
            show(f"({name} deleted a message)")
        elif kind == "chat.intercepted":
            show(f"({name} joined the chat)")
        elif kind == "chat.closed":
            show(f"(the chat was closed: {data.get('reason') or 'no reason given'})")
            if event["chat_id"] == self.chat_id:
                self.chat_id = None


def show(text: str) -> None:
    print(text, flush=True)


def serve_webhooks(connector: Connector, address: str, secret: str) -> ThreadingHTTPServer:
    """Receive webhooks at ``http://<address>/hook``: verify, answer 204, show."""
    verifier = Webhook(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            try:
                event = verifier.verify(body, {k.lower(): v for k, v in self.headers.items()})
            except WebhookVerificationError:
                self.send_response(401)  # not from our Switchboard: Switchboard retries ours
                self.end_headers()
                return
            self.send_response(204)
            self.end_headers()
            connector.on_event(event)

        def log_message(self, *args: Any) -> None:
            pass

    host, port = address.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def poll_events(connector: Connector, api: httpx.Client) -> None:
    """The feed instead of webhooks: no public address needed."""
    after = api.get("/v1/events", params={"wait": 0}).json()["next_after"]
    while True:
        page = api.get("/v1/events", params={"after": after, "wait": 25}, timeout=35).json()
        for event in page["items"]:
            connector.on_event(event)
        after = page["next_after"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="Switchboard's base URL")
    parser.add_argument("--bot-token", required=True, help="a token of role bot")
    parser.add_argument("--client-id", default="console-client")
    parser.add_argument("--poll", action="store_true", help="read GET /v1/events, no webhook")
    parser.add_argument("--listen", default="127.0.0.1:8400", help="where webhooks come in")
    parser.add_argument("--secret", help="the webhook's secret (whsec_...)")
    parser.add_argument("--admin-token", help="register the webhook at start-up with this")
    parser.add_argument("--bot-name", help="the bot token's name: the webhook's chats")
    args = parser.parse_args(argv)

    api = httpx.Client(base_url=args.url, headers={"Authorization": f"Bearer {args.bot_token}"})
    connector = Connector(api, args.client_id)
    if args.poll:
        threading.Thread(target=poll_events, args=(connector, api), daemon=True).start()
    else:
        secret = args.secret
        if secret is None:
            if not args.admin_token:
                parser.error("give --secret, or --admin-token to register the webhook, or --poll")
            registered = httpx.post(
                f"{args.url}/v1/webhooks",
                headers={"Authorization": f"Bearer {args.admin_token}"},
                json={
                    "url": f"http://{args.listen}/hook",
                    "bot": args.bot_name,
                    "description": "console connector",
                },
            )
            registered.raise_for_status()
            secret = registered.json()["secret"]
        serve_webhooks(connector, args.listen, secret)
    show("(type a message; an empty line or end of input quits)")
    for line in sys.stdin:
        line = line.strip()
        if not line:
            break
        connector.say(line)


if __name__ == "__main__":
    main()
