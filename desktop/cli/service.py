"""``flourish server serve|add-service-login|devices|revoke-device``: the service, for IT.

Each handler imports the service (uvicorn, FastAPI) only when it runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from desktop.cli._common import db_url, password
from sync.errors import ValidationError

__all__ = [
    "cmd_server_add_service_login",
    "cmd_server_devices",
    "cmd_server_revoke_device",
    "cmd_server_serve",
]


def cmd_server_serve(args: argparse.Namespace) -> int:
    url = db_url(args)
    from sync.service.db import DbSettings
    from sync.service.limits import Limits
    from sync.service.serve import serve

    settings = DbSettings(url=url, pool_size=args.pool_size, listen_url=args.listen_db)
    if args.device_rate <= 0 or args.device_burst < 1:
        raise ValidationError("--device-rate must be above 0 and --device-burst at least 1")
    serve(
        settings,
        limits=Limits(device_per_second=args.device_rate, device_burst=args.device_burst),
        bind=args.bind,
        tls_cert=Path(args.tls_cert) if args.tls_cert else None,
        tls_key=Path(args.tls_key) if args.tls_key else None,
    )
    return 0


def cmd_server_add_service_login(args: argparse.Namespace) -> int:
    from sync.server.service_admin import add_service_login

    secret = password(f"password for {args.login}: ")
    created = add_service_login(db_url(args), login=args.login, password=secret)
    print(f"service login {args.login} {'created' if created else 'updated'}")
    return 0


def cmd_server_devices(args: argparse.Namespace) -> int:
    from sync.server.service_admin import devices

    rows = devices(db_url(args), include_revoked=args.all)
    if args.json:
        print(json.dumps([r.__dict__ for r in rows], indent=2, default=str))
        return 0
    if not rows:
        print("(no signed-in devices)")
        return 0
    print("id  teacher  login  device  last used  expires  revoked")
    for r in rows:
        last = r.last_used_at.isoformat(timespec="seconds") if r.last_used_at else "never"
        revoked = r.revoked_at.isoformat(timespec="seconds") if r.revoked_at else "-"
        print(
            f"{r.id}  {r.teacher_id}  {r.login}  {r.device_name}  {last}  "
            f"{r.expires_at.date().isoformat()}  {revoked}"
        )
    return 0


def cmd_server_revoke_device(args: argparse.Namespace) -> int:
    from sync.server.service_admin import revoke_device

    revoked = revoke_device(db_url(args), args.device)
    if revoked:
        print(f"revoked device token(s) {', '.join(map(str, revoked))}: signed out")
    else:
        print(f"{args.device}: already revoked")
    return 0
