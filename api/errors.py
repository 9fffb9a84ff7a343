"""Errors as RFC 9457 problem+json, each with a stable machine ``code``.

One table maps every domain and application error to its HTTP status and code; anything a
client sent gets a 4xx, and a database that cannot be reached a 503, never a 500.
"""

from __future__ import annotations

import logging

from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from application import errors as app_errors
from domain import client as client_errors
from domain import errors as domain_errors
from projections.machinery.keyset import BadCursor

log = logging.getLogger(__name__)

PROBLEM = "application/problem+json"


class ApiError(Exception):
    """An error the API itself raises (authentication, read timeouts, size limits)."""

    def __init__(self, status: int, code: str, detail: str, headers: dict | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers


def unauthorized(detail: str = "a valid bearer token is required") -> ApiError:
    return ApiError(401, "unauthorized", detail, {"WWW-Authenticate": "Bearer"})


def forbidden(detail: str) -> ApiError:
    return ApiError(403, "forbidden", detail)


# error class -> (HTTP status, code). The first matching class in this order wins.
ERROR_TABLE: list[tuple[type[Exception], int, str]] = [
    (domain_errors.ChatClosed, 409, "chat_closed"),
    (domain_errors.NotAssigned, 403, "not_assigned"),
    (domain_errors.AlreadyIntercepted, 409, "already_intercepted"),
    (domain_errors.NotIntercepted, 409, "not_intercepted"),
    (domain_errors.NotQueued, 409, "not_queued"),
    (domain_errors.NoCapacity, 409, "no_capacity"),
    (domain_errors.NotWorking, 409, "not_working"),
    (domain_errors.OperatorDeactivated, 409, "operator_deactivated"),
    (domain_errors.GroupDeleted, 404, "not_found"),
    (domain_errors.AlreadyRated, 409, "already_rated"),
    (domain_errors.NotClosed, 409, "chat_open"),
    (domain_errors.ReservationTaken, 409, "already_exists"),
    (domain_errors.TopicRequired, 409, "topic_required"),
    (domain_errors.UnknownMessage, 404, "not_found"),
    (domain_errors.EditsForbidden, 403, "edits_forbidden"),
    (domain_errors.ReassignForbidden, 403, "reassign_forbidden"),
    (domain_errors.InvitationExpired, 410, "invite_expired"),
    (domain_errors.WrongPassword, 403, "wrong_password"),
    (client_errors.ClientBlocked, 409, "client_blocked"),
    (client_errors.BlockForbidden, 403, "block_forbidden"),
    (client_errors.UnknownNote, 404, "not_found"),
    (domain_errors.InvalidValue, 422, "validation"),
    (app_errors.NotFound, 404, "not_found"),
    (app_errors.UnknownReference, 422, "unknown_reference"),
    (app_errors.Forbidden, 403, "forbidden"),
    (app_errors.Conflict, 409, "conflict"),
    (app_errors.BadCredentials, 401, "bad_credentials"),
    (app_errors.TooManyAttempts, 429, "too_many_attempts"),
    (BadCursor, 400, "bad_cursor"),
    (OperationalError, 503, "unavailable"),
    (InterfaceError, 503, "unavailable"),
]

CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation",
    429: "too_many_requests",
    503: "unavailable",
    504: "timeout",
}
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    413: "Request too large",
    422: "Unprocessable content",
    406: "Not acceptable",
    415: "Unsupported media type",
    429: "Too many requests",
    503: "Service unavailable",
    504: "Read model not ready",
}


def problem(status: int, code: str, detail: str, headers: dict | None = None) -> JSONResponse:
    body = {
        "type": f"https://switchboard.dev/problems/{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, error: ApiError) -> JSONResponse:
        return problem(error.status, error.code, error.detail, error.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in error.errors()
        )
        return problem(422, "validation", details or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = CODES_BY_STATUS.get(error.status_code, "error")
        return problem(error.status_code, code, str(error.detail), getattr(error, "headers", None))

    for error_class, status, code in ERROR_TABLE:
        app.add_exception_handler(error_class, _mapped(status, code))


def _mapped(status: int, code: str):
    async def handler(_: Request, error: Exception) -> JSONResponse:
        if status >= 500:
            log.warning("%s: %s", code, error)
        return problem(status, code, str(error) or code, getattr(error, "headers", None))

    return handler
