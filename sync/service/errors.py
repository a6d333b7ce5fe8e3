"""Every error the service answers is JSON: ``{"error": "...", "code": "..."}``.

Bad input is a 4xx that names what is wrong (``body.login: field required``); a database
that cannot be reached is a 503 the laptop retries; nothing a client sends becomes a 500.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.errors import AuthError, ServerError, TransientError, ValidationError
from sync.server.accounts import SignInRequired

__all__ = ["ApiError", "install_error_handlers"]

log = logging.getLogger("flourish.service")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, **headers: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers


def _body(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, "code": code, **extra}, status_code=status)


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc) or "request"


def _validation_message(errors: list[dict[str, Any]]) -> str:
    parts = [f"{_where(e.get('loc', ()))}: {str(e.get('msg', 'invalid')).lower()}" for e in errors]
    return "; ".join(parts[:5]) + (f" (and {len(parts) - 5} more)" if len(parts) > 5 else "")


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        response = _body(exc.status, exc.code, exc.message)
        response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [dict(e) for e in exc.errors()]
        details = [
            {"where": _where(e.get("loc", ())), "problem": str(e.get("msg", ""))} for e in errors
        ]
        return _body(422, "invalid_request", _validation_message(errors), details=details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            # bytes that are not UTF-8 JSON at all: the same answer as any other bad JSON
            return _body(422, "invalid_request", "body: not valid JSON (UTF-8 expected)")
        code = _HTTP_CODES.get(exc.status_code, "error")
        response = _body(exc.status_code, code, str(exc.detail))
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(SignInRequired)
    async def sign_in(_request: Request, exc: SignInRequired) -> JSONResponse:
        response = _body(401, "unauthorized", str(exc))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(AuthError)
    async def forbidden(_request: Request, exc: AuthError) -> JSONResponse:
        # the database refused the teacher something (row level security, a grant)
        return _body(403, "forbidden", str(exc))

    @app.exception_handler(ValidationError)
    async def bad_value(_request: Request, exc: ValidationError) -> JSONResponse:
        return _body(422, "invalid_request", str(exc))

    @app.exception_handler(TransientError)
    async def unavailable(_request: Request, exc: TransientError) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        response = _body(503, "unavailable", f"the school's database is unavailable: {exc}")
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(ServerError)
    async def server_error(_request: Request, exc: ServerError) -> JSONResponse:
        state = _sqlstate(exc)
        message = str(exc).removeprefix("server error: ")
        if state == "42501":  # insufficient_privilege: the database said no
            return _body(403, "forbidden", message)
        if state is not None and state.startswith("22"):
            # data exception: a value the request carried (a safety net: the models and
            # handlers should have refused it first)
            return _body(422, "invalid_request", f"the database refused a value: {message}")
        log.error("database error: %s", exc, exc_info=exc)
        return _body(500, "server_error", "the service could not complete the request")

    @app.exception_handler(UnicodeError)
    async def not_text(_request: Request, exc: UnicodeError) -> JSONResponse:
        return _body(422, "invalid_request", f"text that is not valid Unicode: {exc}")

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.error("unexpected error", exc_info=exc)
        return _body(500, "server_error", "the service could not complete the request")


def _sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of the database error behind ``exc`` (through SQLAlchemy or not)."""
    cause: BaseException | None = exc
    while cause is not None:
        code = getattr(getattr(cause, "orig", None), "pgcode", None) or getattr(
            cause, "pgcode", None
        )
        if code:
            return str(code)
        cause = cause.__cause__
    return None
