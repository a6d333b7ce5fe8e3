"""The server half of sync: the laptop's push and pull, run by the service as the teacher.

Every route is one transaction switched to the teacher the device token stands for
(:meth:`Database.teacher_request`), so the merge — :func:`sync.replication.push.apply_batch`
with timestamp-wins, natural-key rivals, conflicts, quarantine and visibility, exactly once
per (device, operation id) — runs here, under row level security, and no longer trusts the
laptop's code. The pull hands out the commit-safe window bound, pages and the few rows a
laptop fetches outside its pages; the laptop's half writes them into SQLite
(:mod:`sync.replication.client`).
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from sync.replication.protocol import SYNC_PROTOCOL, PlainText, app_version, storable
from sync.replication.push import apply_batch
from sync.replication.wire import INT_ID_TABLES, PULL_STEPS, PULL_TABLES, BadOp, Op, parse_op
from sync.service.deps import Db, Token
from sync.service.errors import ApiError
from sync.service.limits import Limits
from sync.service.live import MARK_PATTERN, ChangeHub
from sync.service.pull_queries import fetch_rows, page_rows, pages
from sync.service.pull_queries import window_hi as pull_window_hi

__all__ = ["MAX_BATCH", "MAX_PAGE", "sync_router"]

MAX_BATCH = 2000
MAX_PAGE = 10_000
_TXID = r"^[0-9]{1,20}$"


class Hello(BaseModel):
    teacher_id: str
    server_epoch: str | None
    protocol: int
    server_version: str


class RegisterRequest(BaseModel):
    device_uuid: uuid.UUID
    hostname: PlainText = Field(min_length=1, max_length=255)


class Registered(Hello):
    device_no: int


class QueuedOp(BaseModel):
    """One row of the laptop's ``sync_operations`` queue, as it is stored there."""

    op_id: int = Field(ge=1, le=2**62)
    table: PlainText = Field(min_length=1, max_length=40)
    row_pk: PlainText = Field(min_length=1, max_length=40)
    op: Literal["upsert", "delete"]
    payload: PlainText = Field(max_length=4_000_000)
    sync_hlc: int = Field(ge=1, le=2**63 - 1)


class PushRequest(BaseModel):
    device_no: int = Field(ge=1, le=2**31 - 1)
    client_now_ms: int = Field(ge=0, le=2**53)
    ops: list[QueuedOp] = Field(
        description=f"at most {MAX_BATCH} operations (the service's batch limit; 413 above)",
        json_schema_extra={"maxItems": MAX_BATCH},
    )


class PushAnswer(BaseModel):
    results: list[dict[str, Any]]
    skew_ms: int
    conflicts: int
    events: list[dict[str, Any]]


class Window(BaseModel):
    hi: str


class PageRequest(BaseModel):
    step: Literal[PULL_STEPS]  # type: ignore[valid-type]
    lo: str = Field(pattern=_TXID)
    hi: str = Field(pattern=_TXID)
    after_txid: str = Field(pattern=_TXID)
    after_version: int = Field(ge=0, le=2**63 - 1)
    limit: int = Field(ge=1, le=MAX_PAGE)


class PagesRequest(PageRequest):
    """A window's pages from ``step`` after ``(after_txid, after_version)`` on, across the
    steps, up to ``limit`` rows in all (``/v1/sync/pull/pages``)."""


class StepPage(BaseModel):
    step: str
    rows: list[list[Any]]


class Position(BaseModel):
    step: str
    after_txid: str
    after_version: int


class Pages(BaseModel):
    pages: list[StepPage]
    next: Position | None = Field(
        description="where the next request starts; null: the window is done"
    )


class RowsRequest(BaseModel):
    table: Literal[PULL_TABLES]  # type: ignore[valid-type]
    by: Literal["id", "student_id", "student_corrections"]
    value: PlainText = Field(min_length=1, max_length=40)


class Rows(BaseModel):
    rows: list[list[Any]]


class Changed(BaseModel):
    changed: bool = Field(
        description="true: something this teacher can see changed since the request began "
        "or since the mark it sent (sync now); false: nothing did before the timeout "
        "(wait again)"
    )
    mark: str = Field(
        description="where the service's announcements stand: send it back as `since` with "
        "the next wait, so that a change between the two waits answers that one at once"
    )


def _cursor(conn: Connection) -> Any:
    """The request transaction's own psycopg2 cursor (the merge code speaks psycopg2)."""
    return conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]


def _hello(conn: Connection, teacher_id: str) -> dict[str, Any]:
    """The handshake: the teacher, the server's epoch and protocol. A database whose schema
    this service does not speak stops every laptop here, before anything is sent (503)."""
    cur = _cursor(conn)
    cur.execute(
        "SELECT (SELECT value FROM flourish_meta WHERE key = 'server_epoch'), "
        "(SELECT value FROM flourish_meta WHERE key = 'sync_protocol'), "
        "(SELECT version_num FROM alembic_version)"
    )
    epoch, protocol, revision = cur.fetchone()
    _check_schema(revision, int(protocol or 0))
    return {
        "teacher_id": teacher_id,
        "server_epoch": epoch,
        "protocol": int(protocol or 0),
        "server_version": app_version(),
    }


def _start(body: PageRequest) -> tuple[str, int]:
    """A page request's keyset start, once its window is checked."""
    if int(body.lo) > int(body.hi):
        raise ApiError(422, "invalid_request", "body.lo: must not be above body.hi")
    return body.after_txid, body.after_version


def _check_values(value: Any, where: str = "") -> None:
    """Every text in a row is storable (escaped NULs and lone surrogates survive JSON)."""
    if isinstance(value, str):
        try:
            storable(value)
        except ValueError as exc:
            raise BadOp(f"{where or 'the row'}: {exc}") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_values(str(key), where)
            _check_values(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for item in value:
            _check_values(item, where)


#: The columns each way of fetching rows needs (``RowsRequest.by``).
_FETCH_TABLES = {
    "student_id": ("data_entries", "assessments", "skill_targets", "badges", "sync_conflicts"),
    "student_corrections": ("teacher_corrections",),
}


@cache
def _revisions() -> tuple[str, frozenset[str]]:
    """This service's newest schema revision and every one it knows (read once)."""
    from sync.server.admin import head_revision, known_revisions

    return head_revision(), frozenset(known_revisions())


def _check_schema(revision: str | None, protocol: int) -> None:
    head, known = _revisions()
    service = f"{head} (protocol {SYNC_PROTOCOL})"
    database = f"{revision or 'empty'} (protocol {protocol})"
    if revision not in known or protocol > SYNC_PROTOCOL:
        raise ApiError(
            503,
            "schema",
            f"update required: the Flourish server is {service}, its database {database}; "
            "ask IT to update the Flourish server",
        )
    if protocol < SYNC_PROTOCOL:
        raise ApiError(
            503,
            "schema",
            f"the database's schema is older than the Flourish server: server {service}, "
            f"database {database}; ask IT to run 'flourish server migrate'",
        )


def _parse(ops: list[QueuedOp], device_no: int) -> tuple[list[Op], list[dict[str, Any]]]:
    good: list[Op] = []
    refused: list[dict[str, Any]] = []
    for q in sorted(ops, key=lambda o: o.op_id):
        try:
            op = parse_op(q.op_id, q.table, q.row_pk, q.op, q.payload, q.sync_hlc, device_no)
            _check_values(op.row)
            good.append(op)
        except BadOp as exc:
            refused.append(
                {"op_id": q.op_id, "status": "rejected", "reason": f"not applied: {exc}"}
            )
    return good, refused


def _check_batch(body: PushRequest, limits: Limits) -> None:
    """The batch limit: a push too big for one transaction is refused whole (413)."""
    if len(body.ops) > limits.batch_ops:
        raise ApiError(
            413,
            "batch_too_large",
            f"body.ops: a push takes at most {limits.batch_ops} operations, this one has "
            f"{len(body.ops)}: send them in smaller batches",
        )
    size = sum(len(q.payload.encode("utf-8")) for q in body.ops)
    if size > limits.batch_bytes:
        raise ApiError(
            413,
            "batch_too_large",
            f"body.ops: a push takes at most {limits.batch_bytes} bytes of payloads, this one "
            f"has {size}: send them in smaller batches",
        )


def sync_router(
    dependencies: list[Any], responses: dict[int | str, dict[str, Any]] | None = None
) -> APIRouter:
    """The ``/v1/sync`` routes (``dependencies``: the version handshake; ``responses``: the
    error answers every route may give, for the OpenAPI document)."""
    router = APIRouter(
        prefix="/v1/sync", dependencies=dependencies, tags=["sync"], responses=responses
    )

    @router.get("/hello", response_model=Hello)
    def hello(db: Db, token: Token) -> dict[str, Any]:
        with db.teacher_request(token) as (conn, who):
            return _hello(conn, who.teacher_id)

    @router.post("/register", response_model=Registered)
    def register(body: RegisterRequest, db: Db, token: Token) -> dict[str, Any]:
        with db.teacher_request(token) as (conn, who):
            cur = _cursor(conn)
            cur.execute(
                "SELECT sync_register_device(%s, %s, %s)",
                (str(body.device_uuid), body.hostname, f"flourish {app_version()}"),
            )
            device_no = int(cur.fetchone()[0])
            return {**_hello(conn, who.teacher_id), "device_no": device_no}

    @router.post("/push", response_model=PushAnswer)
    def push(body: PushRequest, request: Request, db: Db, token: Token) -> dict[str, Any]:
        _check_batch(body, request.app.state.limits)
        with db.teacher_request(token) as (conn, _who):
            ops, refused = _parse(body.ops, body.device_no)
            result = apply_batch(
                _cursor(conn), body.device_no, ops, client_now_ms=body.client_now_ms
            )
        answers = [
            {k: v for k, v in vars(r).items() if v is not None and v is not False}
            for r in result.results
        ]
        return {
            "results": answers + refused,
            "skew_ms": result.skew_ms,
            "conflicts": result.conflicts,
            "events": result.events,
        }

    @router.post("/pull/window", response_model=Window)
    def window(db: Db, token: Token) -> dict[str, str]:
        with db.teacher_request(token) as (conn, _who):
            return {"hi": pull_window_hi(_cursor(conn))}

    @router.post("/pull/page", response_model=Rows)
    def page(body: PageRequest, db: Db, token: Token) -> dict[str, Any]:
        after = _start(body)
        with db.teacher_request(token) as (conn, _who):
            found = page_rows(_cursor(conn), body.step, body.lo, body.hi, after, body.limit)
            return {"rows": [list(r) for r in found]}

    @router.post("/pull/pages", response_model=Pages)
    def pull_pages(body: PagesRequest, db: Db, token: Token) -> dict[str, Any]:
        """Every step's pages in one request (one transaction), up to ``limit`` rows."""
        after = _start(body)
        with db.teacher_request(token) as (conn, _who):
            found, following = pages(_cursor(conn), body.lo, body.hi, body.step, after, body.limit)
        return {
            "pages": [{"step": step, "rows": [list(r) for r in rows]} for step, rows in found],
            "next": None
            if following is None
            else {
                "step": following[0],
                "after_txid": following[1][0],
                "after_version": following[1][1],
            },
        }

    @router.post("/pull/rows", response_model=Rows)
    def rows(body: RowsRequest, db: Db, token: Token) -> dict[str, Any]:
        tables = _FETCH_TABLES.get(body.by)
        if tables is not None and body.table not in tables:
            raise ApiError(
                422,
                "invalid_request",
                f"body.by: {body.table} rows cannot be fetched by {body.by} "
                f"(only {', '.join(tables)})",
            )
        numeric = body.by == "id" and body.table in INT_ID_TABLES
        if numeric and not (body.value.isdigit() and len(body.value) <= 18):
            raise ApiError(
                422, "invalid_request", f"body.value: {body.table} ids are whole numbers"
            )
        with db.teacher_request(token) as (conn, _who):
            found = fetch_rows(_cursor(conn), body.table, body.by, body.value)
            return {"rows": [list(r) for r in found]}

    @router.get("/wait", response_model=Changed)
    async def wait(
        request: Request,
        db: Db,
        token: Token,
        timeout: Annotated[int, Query(ge=1, le=60, description="seconds to wait at most")] = 25,
        since: Annotated[
            str | None,
            Query(
                max_length=40,
                pattern=MARK_PATTERN,
                description="the `mark` of the previous answer: a change since then answers "
                "at once (without it: a change after this request began)",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Long poll: answers as soon as a change this teacher can see commits (after the
        ``since`` mark, else after the request began), or at the timeout. The token is
        checked in one short transaction; the wait itself holds no database connection
        (:class:`~sync.service.live.ChangeHub`)."""
        hub: ChangeHub = request.app.state.hub
        start = hub.since(since)
        who = await run_in_threadpool(db.identify, token)
        changed = await hub.wait(who.teacher_id, start, float(timeout))
        return {"changed": changed, "mark": hub.mark()}

    return router
