"""Every operation of ``/openapi.json`` against every role and against no token, with the
expected status written down below: a new operation without its row fails this suite.

Each operation is called as its path and method give it, with unknown ids in the path and an
empty JSON object as its body (when it takes one). So a role that may not call it gets 403
(401 without a token), and a role that may gets what the operation answers to that: 404 for
an unknown id, 422 for an empty body, 200 for a list. Adding an operation: add its row to
``EXPECTED`` (the failure message prints the row as this server answered it, to check and
copy in).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ServerProcess, Setup

CALLERS = ("admin", "supervisor", "operator", "bot", "analyst", "auditor", "none")
METHODS = ("get", "post", "put", "patch", "delete")

# Bodies that pass validation, where an empty one would be refused before the role is looked at.
BODIES: dict[str, dict[str, Any]] = {
    "PUT /v1/operators/{operator_id}/status": {"status": "working"},
    "POST /v1/chats/{chat_id}/messages": {"text": "hello"},
    "POST /v1/chats/{chat_id}/reassign": {"group_id": str(uuid.UUID(int=1))},
    "PATCH /v1/chats/{chat_id}/messages/{message_id}": {"text": "hello"},
    "POST /v1/chats/{chat_id}/notes": {"text": "hello"},
}

# fmt: off
# operation                                          admin sup  op   bot  anl  aud  none
EXPECTED: dict[str, tuple[int, int, int, int, int, int, int]] = {
    "POST /v1/tokens":                                  (422, 403, 403, 403, 403, 403, 401),
    "GET /v1/tokens":                                   (200, 403, 403, 403, 403, 403, 401),
    "POST /v1/groups":                                  (422, 422, 403, 403, 403, 403, 401),
    "GET /v1/groups":                                   (200, 200, 200, 200, 200, 403, 401),
    "GET /v1/groups/{group_id}":                        (404, 404, 404, 404, 404, 403, 401),
    "PATCH /v1/groups/{group_id}":                      (404, 404, 403, 403, 403, 403, 401),
    "DELETE /v1/groups/{group_id}":                     (404, 404, 403, 403, 403, 403, 401),
    "POST /v1/operators":                               (422, 422, 403, 403, 403, 403, 401),
    "GET /v1/operators":                                (200, 200, 403, 403, 403, 403, 401),
    "GET /v1/me":                                       (200, 200, 200, 200, 200, 200, 401),
    "PATCH /v1/me":                                     (403, 200, 200, 403, 403, 403, 401),
    "GET /v1/operators/{operator_id}":                  (404, 404, 403, 403, 403, 403, 401),
    "PATCH /v1/operators/{operator_id}":                (404, 404, 403, 403, 403, 403, 401),
    "PUT /v1/operators/{operator_id}/status":           (404, 404, 403, 403, 403, 403, 401),
    "POST /v1/operators/{operator_id}/invite":          (404, 404, 403, 403, 403, 403, 401),
    "POST /v1/operators/{operator_id}/deactivate":      (404, 404, 403, 403, 403, 403, 401),
    "POST /v1/operators/{operator_id}/reactivate":      (404, 404, 403, 403, 403, 403, 401),
    "POST /v1/me/heartbeat":                            (403, 204, 204, 403, 403, 403, 401),
    "POST /v1/sessions":                                (422, 422, 422, 422, 422, 422, 422),
    "DELETE /v1/sessions/current":                      (403, 403, 403, 403, 403, 403, 401),
    "POST /v1/invitations/{code}/accept":               (422, 422, 422, 422, 422, 422, 422),
    "DELETE /v1/tokens/{token_id}":                     (404, 403, 403, 403, 403, 403, 401),
    "POST /v1/chats":                                   (403, 403, 403, 422, 403, 403, 401),
    "POST /v1/chats/{chat_id}/messages":                (404, 404, 404, 404, 403, 403, 401),
    "GET /v1/chats/{chat_id}/messages":                 (404, 404, 404, 404, 404, 404, 401),
    "POST /v1/chats/{chat_id}/rating":                  (403, 403, 403, 422, 403, 403, 401),
    "POST /v1/chats/{chat_id}/intercept":               (403, 404, 404, 403, 403, 403, 401),
    "POST /v1/chats/{chat_id}/close":                   (404, 404, 404, 403, 403, 403, 401),
    "POST /v1/chats/{chat_id}/mute":                    (404, 404, 404, 403, 403, 403, 401),
    "POST /v1/chats/{chat_id}/unmute":                  (404, 404, 404, 403, 403, 403, 401),
    "POST /v1/chats/{chat_id}/reassign":                (404, 404, 404, 403, 403, 403, 401),
    "PATCH /v1/chats/{chat_id}":                        (404, 404, 404, 403, 403, 403, 401),
    "POST /v1/chats/{chat_id}/notes":                   (404, 404, 404, 403, 403, 403, 401),
    "POST /v1/chats/{chat_id}/ask-resolved":            (404, 404, 404, 403, 403, 403, 401),
    "GET /v1/chats/{chat_id}":                          (404, 404, 404, 404, 404, 404, 401),
    "PATCH /v1/chats/{chat_id}/messages/{message_id}":  (404, 404, 404, 403, 403, 403, 401),
    "DELETE /v1/chats/{chat_id}/messages/{message_id}": (404, 404, 404, 403, 403, 403, 401),
    "GET /v1/chats/{chat_id}/events":                   (404, 404, 403, 403, 403, 404, 401),
    "GET /v1/quick-replies":                            (200, 200, 200, 403, 403, 403, 401),
    "POST /v1/quick-replies":                           (422, 422, 422, 403, 403, 403, 401),
    "PATCH /v1/quick-replies/{reply_id}":               (404, 404, 404, 403, 403, 403, 401),
    "DELETE /v1/quick-replies/{reply_id}":              (404, 404, 404, 403, 403, 403, 401),
    "GET /v1/settings":                                 (200, 200, 200, 403, 403, 403, 401),
    "PUT /v1/settings":                                 (200, 403, 403, 403, 403, 403, 401),
    "GET /v1/dashboard":                                (200, 200, 200, 403, 403, 403, 401),
    "GET /v1/stream":                                   (200, 200, 200, 403, 403, 403, 401),
    "GET /v1/history":                                  (200, 200, 200, 403, 200, 200, 401),
    "GET /v1/clients":                                  (200, 200, 200, 403, 403, 403, 401),
    "GET /v1/clients/{client_id}":                      (404, 404, 404, 403, 403, 403, 401),
    "PATCH /v1/clients/{client_id}":                    (404, 404, 404, 403, 403, 403, 401),
    "POST /v1/clients/{client_id}/notes":               (422, 422, 422, 403, 403, 403, 401),
    "DELETE /v1/clients/{client_id}/notes/{note_id}":   (404, 404, 404, 403, 403, 403, 401),
    "PUT /v1/clients/{client_id}/tags":                 (422, 422, 422, 403, 403, 403, 401),
    "POST /v1/clients/{client_id}/block":               (404, 404, 403, 403, 403, 403, 401),
    "POST /v1/clients/{client_id}/unblock":             (404, 404, 403, 403, 403, 403, 401),
    "GET /v1/reports/sla":                              (200, 200, 403, 403, 200, 403, 401),
    "GET /v1/reports/operators":                        (200, 200, 403, 403, 200, 403, 401),
    # webhooks (admin) and the Events feed (bots, admin, auditors)
    "POST /v1/webhooks":                                (422, 403, 403, 403, 403, 403, 401),
    "GET /v1/webhooks":                                 (200, 403, 403, 403, 403, 403, 401),
    "GET /v1/webhooks/{webhook_id}":                    (404, 403, 403, 403, 403, 403, 401),
    "PATCH /v1/webhooks/{webhook_id}":                  (404, 403, 403, 403, 403, 403, 401),
    "DELETE /v1/webhooks/{webhook_id}":                 (404, 403, 403, 403, 403, 403, 401),
    "GET /v1/webhooks/{webhook_id}/deliveries":         (404, 403, 403, 403, 403, 403, 401),
    "POST /v1/webhooks/{webhook_id}/replay":            (422, 403, 403, 403, 403, 403, 401),
    "POST /v1/webhooks/{webhook_id}/rotate-secret":     (404, 403, 403, 403, 403, 403, 401),
    "GET /v1/events":                                   (200, 403, 403, 200, 403, 200, 401),
    "GET /healthz":                                     (200, 200, 200, 200, 200, 200, 200),
    "GET /readyz":                                      (200, 200, 200, 200, 200, 200, 200),
    "GET /metrics":                                     (200, 200, 200, 200, 200, 200, 200),
}
# fmt: on


@pytest.fixture(scope="module")
def document(server: ServerProcess) -> dict[str, Any]:
    return httpx.get(f"{server.base_url}/openapi.json", timeout=10).json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


@pytest.fixture(scope="module")
def callers(server: ServerProcess) -> Iterator[dict[str, httpx.Client]]:
    """A client per role: admins, bots, analysts and auditors by token; supervisors and
    operators as operators with their own tokens; and one with no token."""
    clients: list[httpx.Client] = []

    def make(token: str | None = None) -> httpx.Client:
        clients.append(server.client(token))
        return clients[-1]

    setup = Setup(admin=make(server.admin_token), make_client=make)
    by_role = {role: setup.token(role) for role in ("admin", "bot", "analyst", "auditor")}
    by_role["supervisor"] = setup.operator(role="supervisor")[1]
    by_role["operator"] = setup.operator()[1]
    by_role["none"] = make()
    yield by_role
    for client in clients:
        client.close()


def call(client: httpx.Client, method: str, path: str, operation: dict[str, Any]) -> int:
    """The status of one call: unknown ids in the path, ``{}`` as the body if it takes one."""
    url = path
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", str(uuid.uuid4()))
    body = {"json": BODIES.get(f"{method} {path}", {})} if "requestBody" in operation else {}
    with client.stream(method, url, **body) as response:  # a stream is left after its headers
        return response.status_code


def test_every_operation_has_a_row(document: dict[str, Any]) -> None:
    listed = {f"{method} {path}" for method, path, _ in operations(document)}
    missing = sorted(listed - set(EXPECTED))
    gone = sorted(set(EXPECTED) - listed)
    assert not missing, (
        "operations without a row in tests/e2e/test_roles.py EXPECTED: "
        + ", ".join(missing)
        + " (add one per operation: the expected status for "
        + ", ".join(CALLERS)
        + "; test_every_role_gets_its_status prints what the server answers)"
    )
    assert not gone, f"rows for operations that no longer exist: {', '.join(gone)}"


def test_every_role_gets_its_status(
    document: dict[str, Any], callers: dict[str, httpx.Client]
) -> None:
    wrong = []
    for method, path, operation in operations(document):
        key = f"{method} {path}"
        answered = tuple(call(callers[c], method, path, operation) for c in CALLERS)
        expected = EXPECTED.get(key)
        if answered != expected:
            wrong.append(f"    {key!r}: {answered},  # expected {expected}")
    assert not wrong, (
        "these operations answered other statuses than their rows in EXPECTED "
        f"(columns {', '.join(CALLERS)}):\n" + "\n".join(wrong)
    )
