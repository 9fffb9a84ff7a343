"""Whether the server of this process has begun to shut down, for requests that would
otherwise hold it: a long poll answers at once instead of waiting out its ``wait``.

uvicorn installs its stop signals' handler as a bound method of its server (ours,
``GracefulServer``, and each API process of ``serve --workers N``), and the server's
``should_exit`` turns true when a signal asks it to stop. sse-starlette finds the server the
same way to end its streams; nothing else in uvicorn tells a running request.
"""

from __future__ import annotations

import signal


def server_exiting() -> bool:
    server = getattr(signal.getsignal(signal.SIGTERM), "__self__", None)
    return bool(getattr(server, "should_exit", False))
