"""The request dependencies every route shares: the process's pool and the bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sync.server import accounts
from sync.service.db import Database

__all__ = ["Db", "Token", "bearer", "database"]

_bearer = HTTPBearer(auto_error=False, description="the device token from /v1/login")


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def bearer(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> str:
    if creds is None or creds.scheme.lower() != "bearer":
        raise accounts.SignInRequired("not signed in: sign in with 'flourish login'")
    return creds.credentials


Db = Annotated[Database, Depends(database)]
Token = Annotated[str, Depends(bearer)]
