"""Property-based tests of the whole HTTP contract: schemathesis drives every operation of the
live ``/openapi.json`` of a real server (real PostgreSQL) with valid and invalid input.

Excluded: ``GET /v1/stream``, a Server-Sent Events stream that never ends by design (its
contract is tested in test_stream.py).
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.app import create_api
from api.metrics import Metrics
from tests.e2e.conftest import ServerProcess

# Every operation's cases share one node id, and pytest-xdist runs one item per node id: in
# parallel, all but one operation would go untested. `make test` runs this module by itself.
pytestmark = pytest.mark.alone

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
EXAMPLES_PER_OPERATION = 20  # 35 operations: the whole test stays well under two minutes


def _document() -> dict:
    """The API's OpenAPI document, as ``create_api`` makes it: known at collection, before any
    server runs (schemathesis' lazy loader does not work with this pytest)."""
    return create_api(lambda: None, metrics=Metrics(), max_body_bytes=1_000_000).openapi()


DOCUMENT = _document()
contract = schemathesis.openapi.from_dict(DOCUMENT).exclude(path="/v1/stream")
contract.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
    max_examples=EXAMPLES_PER_OPERATION,
    # Unknown query parameters are ignored by design (a browser's cache-buster must not fail a
    # read), so a request is not made invalid by adding one.
    allow_extra_parameters=False,
)


@contract.hook
def filter_query(context: schemathesis.HookContext, query: dict | None) -> bool:
    """An empty object or list in a query string goes out as an empty value, which history
    takes, by design, as no filter: on the wire such a case is not invalid, so it is dropped."""
    return not any(isinstance(v, dict | list) and not v for v in (query or {}).values())


def shorten_long_poll(case: schemathesis.Case) -> None:
    """The feed's long poll may hold an answer for up to 30 s, longer than a case may take: a
    valid ``wait`` is shortened (an invalid one stays as it is, to be refused)."""
    if case.path != "/v1/events" or not case.query or isinstance(case.query.get("wait"), bool):
        return
    try:
        wait = float(case.query.get("wait"))
    except (TypeError, ValueError):
        return
    if 0 <= wait <= 30:
        case.query["wait"] = min(wait, 0.2)


@pytest.fixture(scope="module")
def live_server(server: ServerProcess) -> ServerProcess:
    """The server, once it is known to serve the very document the cases come from."""
    assert httpx.get(f"{server.base_url}/openapi.json").json() == DOCUMENT
    return server


@contract.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_keeps_its_contract(case: schemathesis.Case, live_server: ServerProcess):
    server = live_server
    shorten_long_poll(case)
    case.call_and_validate(
        base_url=server.base_url,
        headers={"Authorization": f"Bearer {server.admin_token}"},
        checks=CHECKS,
        timeout=10,
    )


# The bot's side: an admin may not hand off, so the handoff's body is exercised with a bot's token.
bot_side = contract.include(
    path_regex=r"^/v1/chats(/\{chat_id\}(/messages|/rating)?)?$", method=["GET", "POST"]
)


@pytest.fixture(scope="module")
def bot_token(live_server: ServerProcess) -> str:
    with live_server.client(live_server.admin_token) as admin:
        issued = admin.post("/v1/tokens", json={"role": "bot", "name": "schemathesis-bot"})
    assert issued.status_code == 201, issued.text
    return issued.json()["token"]


@bot_side.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_bots_operations_keep_their_contract(
    case: schemathesis.Case, live_server: ServerProcess, bot_token: str
):
    case.call_and_validate(
        base_url=live_server.base_url,
        headers={"Authorization": f"Bearer {bot_token}"},
        checks=CHECKS,
        timeout=10,
    )
