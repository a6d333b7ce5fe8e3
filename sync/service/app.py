"""The ASGI application: FastAPI routes over the process's one connection pool.

Routes (all JSON): ``GET /healthz`` (the process answers), ``GET /readyz`` (the database
answers and its schema is the one this program expects), ``POST /v1/login`` (password ->
device token), ``GET /v1/me`` (the teacher a token stands for, read under that teacher's
row level security). Every ``/v1`` route checks the client's ``Flourish-Version`` first.
Handlers are plain ``def``: FastAPI runs them on its worker threads, each holding one
pooled connection for one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import text

from sync.errors import ServerError
from sync.replication.protocol import (
    MIN_CLIENT_VERSION,
    VERSION_HEADER,
    PlainText,
    app_version,
    parse_version,
)
from sync.server import accounts
from sync.service.db import Database, DbSettings
from sync.service.deps import bearer, database
from sync.service.errors import ApiError, install_error_handlers
from sync.service.limits import AttemptLimiter, BodyLimit, DeviceRate, Limits
from sync.service.live import ChangeHub
from sync.service.sync_api import sync_router

__all__ = ["create_app"]

log = logging.getLogger("flourish.service")


class Problem(BaseModel):
    error: str = Field(description="what went wrong, in one line a person can act on")
    code: str


class LoginRequest(BaseModel):
    login: str = Field(min_length=1, max_length=63, pattern=r"^[a-z_][a-z0-9_]*$")
    password: PlainText = Field(min_length=1, max_length=1024)
    device_name: PlainText = Field(min_length=1, max_length=200)


class LoginAnswer(BaseModel):
    token: str
    teacher_id: str
    login: str
    expires_in_days: int


class Me(BaseModel):
    teacher_id: str
    name: str
    login: str


class Health(BaseModel):
    status: str
    version: str
    schema_revision: str | None = None


ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": Problem} for code in (401, 403, 413, 422, 426, 429, 503)
}


def _check_version(
    flourish_version: Annotated[str | None, Header(alias=VERSION_HEADER)] = None,
) -> None:
    """The version handshake: an older (or unversioned) client changes nothing."""
    minimum = parse_version(MIN_CLIENT_VERSION)
    given = parse_version(flourish_version) if flourish_version else None
    if given is None or minimum is None or given < minimum:
        raise ApiError(
            426,
            "upgrade_required",
            f"update Flourish to {MIN_CLIENT_VERSION} or later to sync with this server",
            Upgrade=f"Flourish/{MIN_CLIENT_VERSION}",
        )


def create_app(
    settings: DbSettings,
    *,
    expected_revision: str | None = None,
    limits: Limits | None = None,
) -> FastAPI:
    """The service. ``expected_revision``: the schema /readyz requires (default: head);
    ``limits``: request rates and batch sizes (:class:`~sync.service.limits.Limits`)."""
    limits = limits or Limits()
    login_attempts_per_minute = limits.login_per_minute

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.db = Database(settings)  # the process's one pool
        app.state.hub = ChangeHub(settings.listen_url or settings.url)  # its one listener
        await app.state.hub.start()
        try:
            yield
        finally:
            await app.state.hub.stop()
            app.state.db.dispose()

    app = FastAPI(
        title="Flourish service",
        version=app_version(),
        description="Laptops sign in and sync here; no teacher holds a database login.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodyLimit)
    app.state.limits = limits
    app.state.device_rate = DeviceRate(limits.device_per_second, limits.device_burst)
    sign_ins = AttemptLimiter(limit=login_attempts_per_minute)
    # a school's laptops often share one public address: that limit is a flood guard
    sign_ins_per_address = AttemptLimiter(limit=login_attempts_per_minute * 20)

    @app.get("/healthz", response_model=Health, tags=["operations"])
    def healthz() -> Health:
        return Health(status="ok", version=app_version())

    @app.get("/readyz", response_model=Health, responses={503: {"model": Problem}})
    def readyz(db: Annotated[Database, Depends(database)]) -> Health | JSONResponse:
        from sync.server.admin import head_revision

        wanted = expected_revision or head_revision()
        try:
            revision = db.schema_revision()
        except ServerError as exc:
            return JSONResponse({"error": str(exc), "code": "unavailable"}, status_code=503)
        if revision != wanted:
            message = f"database schema is {revision or 'empty'}, this service needs {wanted}"
            return JSONResponse({"error": message, "code": "schema"}, status_code=503)
        return Health(status="ready", version=app_version(), schema_revision=revision)

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(_check_version)], responses=ERRORS)

    @v1.post("/login", response_model=LoginAnswer)
    def login(
        body: LoginRequest, request: Request, db: Annotated[Database, Depends(database)]
    ) -> LoginAnswer:
        address = request.client.host if request.client else "unknown"
        wait = sign_ins.check(body.login) or sign_ins_per_address.check(address)
        if wait is not None:
            raise ApiError(
                429,
                "too_many_attempts",
                f"too many sign-in attempts: try again in {int(wait) + 1} s",
                **{"Retry-After": str(int(wait) + 1)},
            )
        with db.transaction() as conn:
            token, who = accounts.issue_token(
                conn, login=body.login, password=body.password, device_name=body.device_name
            )
        log.info("sign-in: teacher %s, device token %s", who.teacher_id, who.token_id)
        return LoginAnswer(
            token=token,
            teacher_id=who.teacher_id,
            login=who.login,
            expires_in_days=accounts.TOKEN_LIFETIME.days,
        )

    @v1.get("/me", response_model=Me)
    def me(
        db: Annotated[Database, Depends(database)],
        token: Annotated[str, Depends(bearer)],
    ) -> Me:
        with db.teacher_request(token) as (conn, who):
            row = conn.execute(text("SELECT id, name FROM teachers")).first()
        if row is None:
            raise accounts.SignInRequired("this teacher no longer exists: ask IT")
        return Me(teacher_id=row.id, name=row.name, login=who.login)

    app.include_router(v1)
    app.include_router(sync_router([Depends(_check_version)], ERRORS))
    return app
