"""The error answers of every operation, written into ``/openapi.json`` from the routes.

Each route's possible problems follow from what it is: a bearer token (401, 403), an id in
its path (404), a body (400, 413, 422), query or header parameters (422), ``min_position`` (422
``bad_position``, 504), a cursor (400), ``/v1`` (503, the database guard), and the domain
errors its command can raise (the small table ``COMMAND_ERRORS``, mapped through
``api.errors.ERROR_TABLE``). A new route gets its answers documented without anyone listing them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.security.base import SecurityBase

from api.errors import CODES_BY_STATUS, ERROR_TABLE, PROBLEM, TITLES
from application import errors as app_errors
from domain import client as client_errors
from domain import errors as domain_errors

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An error, as RFC 9457 problem details with a stable machine `code`.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string", "description": "The status, in words."},
        "status": {"type": "integer", "description": "The HTTP status code."},
        "detail": {"type": "string", "description": "What went wrong, for a person."},
        "code": {"type": "string", "description": "A stable machine word; see each answer."},
    },
}
_REF = {"$ref": "#/components/schemas/Problem"}

# What each command can be refused with, beyond what its route's shape tells, keyed by the
# route's name (its function; a test checks each names a route). Version races that outlast the
# retries are ``Conflict``.
_CHAT_STATE = (domain_errors.ChatClosed, app_errors.Conflict)
_OPERATOR_TAKES = (
    domain_errors.NoCapacity,
    domain_errors.NotWorking,
    domain_errors.OperatorDeactivated,
)
_OWN_MESSAGE = (domain_errors.NotAssigned, domain_errors.UnknownMessage)
_OWN_MESSAGE += (domain_errors.EditsForbidden, domain_errors.InvalidValue)
_DEACTIVATED = (domain_errors.OperatorDeactivated, app_errors.Conflict)
COMMAND_ERRORS: dict[str, tuple[type[Exception], ...]] = {
    "create_token": (app_errors.UnknownReference, app_errors.Conflict),
    "create_group": (domain_errors.ReservationTaken, domain_errors.InvalidValue),
    "update_group": (domain_errors.ReservationTaken, domain_errors.InvalidValue),
    "delete_group": (app_errors.Conflict,),
    "create_operator": (domain_errors.ReservationTaken, app_errors.UnknownReference),
    "update_operator": (domain_errors.ReservationTaken, app_errors.UnknownReference),
    "set_status": (domain_errors.OperatorDeactivated, domain_errors.InvalidValue),
    "hand_off": (
        app_errors.UnknownReference,
        domain_errors.InvalidValue,
        app_errors.Conflict,
        client_errors.ClientBlocked,
    ),
    "post_message": (
        *_CHAT_STATE,
        domain_errors.NotAssigned,
        domain_errors.NotIntercepted,
        client_errors.ClientBlocked,
        app_errors.UnknownReference,  # a quick_reply_id that is none of the caller's
        domain_errors.AlreadyRated,  # a score pressed under the rating prompt, once more
    ),
    "list_messages": (domain_errors.InvalidValue,),
    "rate": (domain_errors.NotClosed, domain_errors.AlreadyRated, app_errors.Conflict),
    "intercept": (*_CHAT_STATE, domain_errors.AlreadyIntercepted, *_OPERATOR_TAKES),
    "close": (*_CHAT_STATE, domain_errors.NotAssigned, domain_errors.TopicRequired),
    "mute": (*_CHAT_STATE, domain_errors.NotAssigned, domain_errors.InvalidValue),
    "unmute": (*_CHAT_STATE, domain_errors.NotAssigned),
    "reassign": (
        *_CHAT_STATE,
        domain_errors.ReassignForbidden,
        domain_errors.AlreadyIntercepted,
        app_errors.UnknownReference,
        *_OPERATOR_TAKES,
    ),
    "change_topic": (*_CHAT_STATE, domain_errors.NotAssigned, domain_errors.InvalidValue),
    "edit_message": (*_CHAT_STATE, *_OWN_MESSAGE),
    "delete_message": (*_CHAT_STATE, *_OWN_MESSAGE),
    "add_note": (domain_errors.InvalidValue, app_errors.Conflict),
    "ask_resolved": (*_CHAT_STATE, domain_errors.NotAssigned),
    "create_quick_reply": (
        domain_errors.InvalidValue,
        app_errors.UnknownReference,
        app_errors.Conflict,
    ),
    "update_quick_reply": (domain_errors.InvalidValue, app_errors.Conflict),
    "delete_quick_reply": (app_errors.Conflict,),
    "put_settings": (
        domain_errors.InvalidValue,
        app_errors.UnknownReference,
        app_errors.Conflict,
    ),
    # staff accounts
    "sign_in": (app_errors.BadCredentials, app_errors.TooManyAttempts, app_errors.Conflict),
    "sign_out": (app_errors.Forbidden, app_errors.Conflict),
    "accept_invitation": (
        domain_errors.InvitationExpired,
        domain_errors.InvalidValue,
        app_errors.Conflict,
    ),
    "update_me": (domain_errors.WrongPassword, *_DEACTIVATED, domain_errors.InvalidValue),
    "heartbeat": (app_errors.Forbidden,),
    "revoke_token": (app_errors.Conflict,),
    "invite_operator": (*_DEACTIVATED, app_errors.Conflict),
    "deactivate_operator": (app_errors.Conflict,),
    "reactivate_operator": (app_errors.Conflict,),
    # webhooks
    "create_webhook": (domain_errors.InvalidValue,),
    "update_webhook": (domain_errors.InvalidValue, app_errors.Conflict),
    "delete_webhook": (app_errors.Conflict,),
    "replay_webhook": (domain_errors.InvalidValue, app_errors.Conflict),
    "rotate_webhook_secret": (domain_errors.InvalidValue, app_errors.Conflict),
    # the client card
    "update_client": (domain_errors.InvalidValue, app_errors.Conflict),
    "add_client_note": (domain_errors.InvalidValue, app_errors.Conflict),
    "delete_client_note": (client_errors.UnknownNote, app_errors.Conflict),
    "set_client_tags": (domain_errors.InvalidValue, app_errors.Conflict),
    "block_client": (client_errors.BlockForbidden, domain_errors.InvalidValue, app_errors.Conflict),
    "unblock_client": (client_errors.BlockForbidden, app_errors.Conflict),
}

Answers = dict[int, dict[str, str]]  # status -> {code: when}


def document_problems(api: FastAPI) -> None:
    """Make ``api.openapi()`` document each operation's problem answers."""
    generate = api.openapi

    def openapi() -> dict[str, Any]:
        schema = generate()
        if "Problem" not in schema.setdefault("components", {}).setdefault("schemas", {}):
            _document(schema, _api_routes(api))
        return schema

    api.openapi = openapi  # the documented way to extend FastAPI's OpenAPI document


def _api_routes(api: FastAPI) -> list[RouteContext]:
    """The API's routes as mounted (with their routers' prefixes), as OpenAPI sees them."""
    return [r for r in iter_route_contexts(api.routes) if isinstance(r.original_route, APIRoute)]


def problem_answers(route: APIRoute | RouteContext) -> Answers:
    """Every problem answer ``route`` can give, with its codes and when each comes."""
    parts = list(_walk(route.dependant))
    path_params = [p for d in parts for p in d.path_params]
    header_params = [p for d in parts for p in d.header_params]
    query = {p.alias for d in parts for p in d.query_params}
    answers: Answers = {}

    def add(status: int, code: str, when: str) -> None:
        answers.setdefault(status, {}).setdefault(code, when)

    if _authenticates(route.dependant):
        add(401, "unauthorized", "no bearer token, or an unknown or revoked one")
        add(403, "forbidden", "the caller's role (or who holds the thing) does not allow it")
    if path_params:
        add(404, "not_found", "nothing has that id")
    if route.body_field is not None:
        add(400, "bad_request", "the body cannot be parsed")
        add(413, "too_large", "the body is over the server's limit")
    if route.body_field is not None or path_params or query or header_params:
        add(422, "validation", "a parameter or the body does not match its schema")
    if "cursor" in query:
        add(400, "bad_cursor", "the cursor is not one this list gave")
    if "min_position" in query:
        add(422, "bad_position", "min_position is beyond the event log's head")
        add(504, "timeout", "the read model did not reach min_position within the wait")
    if route.path_format.startswith("/v1/"):
        add(503, "unavailable", "the database cannot be reached")
    for error in COMMAND_ERRORS.get(route.name, ()):
        status, code = _mapped(error)
        add(status, code, _first_line(error.__doc__) or code)
    return answers


def _document(schema: dict[str, Any], routes: Iterable[RouteContext]) -> None:
    problem = {**PROBLEM_SCHEMA, "properties": dict(PROBLEM_SCHEMA["properties"])}
    listed = ", ".join(f"`{code}` ({status})" for code, status in stable_codes().items())
    problem["properties"]["code"] = {
        "type": "string",
        "description": f"A stable machine word, one of: {listed}.",
    }
    schema["components"]["schemas"]["Problem"] = problem
    for route in routes:
        answers = problem_answers(route)
        for method in route.methods:
            operation = schema["paths"][route.path_format][method.lower()]
            responses = operation.setdefault("responses", {})
            for status, codes in sorted(answers.items()):
                responses[str(status)] = {
                    "description": _describe(status, codes),
                    "content": {PROBLEM: {"schema": _REF}},
                }
            operation["responses"] = dict(sorted(responses.items()))
    _drop_unused_validation_schemas(schema)


def _describe(status: int, codes: dict[str, str]) -> str:
    lines = "\n".join(f"- `{code}`: {when}" for code, when in codes.items())
    return f"{TITLES.get(status, 'Error')}, with `code`:\n{lines}"


def _authenticates(dependant: Dependant) -> bool:
    return any(isinstance(d.call, SecurityBase) for d in _walk(dependant))


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def _mapped(error: type[Exception]) -> tuple[int, str]:
    for error_class, status, code in ERROR_TABLE:
        if issubclass(error, error_class):
            return status, code
    raise LookupError(f"{error.__name__} is not in api.errors.ERROR_TABLE")


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0].rstrip(".") if text else ""


def _drop_unused_validation_schemas(schema: dict[str, Any]) -> None:
    """Our 422s are problems, so FastAPI's own validation schemas describe nothing we send."""
    if "#/components/schemas/HTTPValidationError'" not in repr(schema["paths"]):
        for name in ("HTTPValidationError", "ValidationError"):
            schema["components"]["schemas"].pop(name, None)


def stable_codes() -> dict[str, int]:
    """Every stable ``code`` the API answers with, and its status."""
    codes = {code: status for status, code in CODES_BY_STATUS.items()}
    codes.update({code: status for _, status, code in ERROR_TABLE})
    codes.update({"bad_position": 422, "timeout": 504})
    return dict(sorted(codes.items()))
