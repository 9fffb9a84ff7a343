"""The live ``/openapi.json`` documents, for every operation, the problems it can answer."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from api.errors import ERROR_TABLE
from api.problems import COMMAND_ERRORS
from tests.e2e.conftest import ServerProcess

PROBLEM_REF = "#/components/schemas/Problem"
METHODS = ("get", "post", "put", "patch", "delete")
CHAT_COMMAND = re.compile(r"^/v1/chats(/\{chat_id\}(/[a-z]+)?)?$")


@pytest.fixture(scope="module")
def document(server: ServerProcess) -> dict[str, Any]:
    response = httpx.get(f"{server.base_url}/openapi.json", timeout=10)
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def problem_statuses(operation: dict[str, Any], path: str) -> set[int]:
    """The statuses answered as problem+json with the Problem schema, and only that (under /v1:
    /readyz's 503 is a readiness report for load balancers, not a problem)."""
    statuses = set()
    for status, answer in operation["responses"].items():
        if int(status) >= 400 and path.startswith("/v1/"):
            assert answer["content"] == {
                "application/problem+json": {"schema": {"$ref": PROBLEM_REF}}
            }, status
            statuses.add(int(status))
    return statuses


def test_the_problem_schema_names_its_fields_and_its_codes(document: dict[str, Any]) -> None:
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "code"}
    assert problem["properties"]["status"]["type"] == "integer"
    described = problem["properties"]["code"]["description"]
    for _, status, code in ERROR_TABLE:
        assert f"`{code}` ({status})" in described
    for code in ("validation", "unauthorized", "too_large", "bad_position", "timeout"):
        assert f"`{code}`" in described
    # Our 422s are problems: FastAPI's own validation answer is documented nowhere.
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "HTTPValidationError" not in str(document["paths"])


def test_every_operation_documents_the_problems_it_can_answer(document: dict[str, Any]) -> None:
    checked = 0
    for method, path, operation in operations(document):
        where = f"{method.upper()} {path}"
        statuses = problem_statuses(operation, path)
        params = {p["name"]: p for p in operation.get("parameters", [])}
        expected = set()
        if operation.get("security"):
            expected |= {401, 403}
        if any(p["in"] == "path" for p in params.values()):
            expected.add(404)
        if "requestBody" in operation:
            expected |= {400, 413, 422}
        if params:
            expected.add(422)
        if "min_position" in params:
            expected |= {422, 504}
            assert "`bad_position`" in operation["responses"]["422"]["description"], where
        if "cursor" in params:
            expected.add(400)
        if path.startswith("/v1/"):
            expected.add(503)
        if method != "get" and CHAT_COMMAND.match(path):
            expected.add(409)
        assert expected <= statuses, f"{where}: {sorted(expected - statuses)} undocumented"
        for status in statuses:
            description = operation["responses"][str(status)]["description"]
            assert re.search(r"- `[a-z_]+`: ", description), f"{where} {status}: no codes"
        checked += 1
    assert checked >= 30  # every operation of API.md's first part, at least


def test_every_authenticated_route_is_under_v1_and_says_so(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        if operation.get("security"):
            assert path.startswith("/v1/"), f"{method} {path}"
            assert "401" in operation["responses"] and "503" in operation["responses"]


def test_a_chat_command_lists_the_domain_errors_it_can_raise(document: dict[str, Any]) -> None:
    intercept = document["paths"]["/v1/chats/{chat_id}/intercept"]["post"]["responses"]
    for code in ("chat_closed", "already_intercepted", "no_capacity", "conflict"):
        assert f"`{code}`" in intercept["409"]["description"]
    rate = document["paths"]["/v1/chats/{chat_id}/rating"]["post"]["responses"]
    assert "`already_rated`" in rate["409"]["description"]
    assert "`chat_open`" in rate["409"]["description"]


def test_the_table_of_command_errors_names_real_routes(document: dict[str, Any]) -> None:
    names = {op["operationId"].split("_v1_")[0] for _, _, op in operations(document)}
    assert set(COMMAND_ERRORS) <= names, set(COMMAND_ERRORS) - names


def test_the_documented_problem_is_the_one_answered(server: ServerProcess) -> None:
    with server.client() as anonymous:
        response = anonymous.get("/v1/groups")
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert set(response.json()) == {"type", "title", "status", "detail", "code"}
