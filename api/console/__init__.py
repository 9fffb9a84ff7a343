"""The operator console: plain files shipped in this package, served under ``/console/``.

The console is a browser client of the public API like any other: it reads and writes only
through ``/v1/...`` and ``/v1/stream``. Nothing is loaded from another host, and the
Content-Security-Policy sent with every file says so to the browser.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).parent / "static"
PATH = "/console"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    # Small files, revalidated each time: a new version is seen on the next load.
    (b"cache-control", b"no-cache"),
]


class ConsoleFiles:
    """The static files, each answer with the console's security headers."""

    def __init__(self, directory: Path = STATIC) -> None:
        self.files: ASGIApp = StaticFiles(directory=directory, html=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.files(scope, receive, with_headers)


def mount_console(api: FastAPI) -> None:
    """Serve the console at ``/console/`` (``/console`` redirects there)."""
    api.mount(PATH, ConsoleFiles(), name="console")
