"""The request dependencies every route shares: the process's pool and the bearer token.

:func:`bearer` also spends one request of the device token's rate (``limits.DeviceRate``),
so a device over its rate gets 429 before the database is touched.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sync.server import accounts
from sync.service.db import Database
from sync.service.errors import ApiError
from sync.service.limits import DeviceRate

__all__ = ["Db", "Token", "bearer", "database"]

_bearer = HTTPBearer(auto_error=False, description="the device token from /v1/login")


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def bearer(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> str:
    if creds is None or creds.scheme.lower() != "bearer":
        raise accounts.SignInRequired("not signed in: sign in with 'flourish login'")
    rate: DeviceRate | None = getattr(request.app.state, "device_rate", None)
    if rate is not None and (wait := rate.take(creds.credentials)) is not None:
        seconds = int(wait) + 1
        raise ApiError(
            429,
            "rate_limited",
            f"too many requests from this device (at most {rate.per_second:g} a second, "
            f"{int(rate.burst)} at once): try again in {seconds} s",
            **{"Retry-After": str(seconds)},
        )
    return creds.credentials


Db = Annotated[Database, Depends(database)]
Token = Annotated[str, Depends(bearer)]
