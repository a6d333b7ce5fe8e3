"""This laptop and the server: ``login``, ``logout``, ``sync``, ``status``, ``encrypt``,
``decrypt``."""

from __future__ import annotations

import argparse
import os

from desktop.cli._common import open_store, password, print_json
from sync import paths
from sync.errors import FlourishError

__all__ = [
    "cmd_decrypt",
    "cmd_encrypt",
    "cmd_login",
    "cmd_logout",
    "cmd_status",
    "cmd_sync",
]


def cmd_login(args: argparse.Namespace) -> int:
    from sync.replication.login import login

    path = paths.local_db_path(args.data_dir)
    new_store = not path.exists()
    try:
        with open_store(args, create=True) as store:
            result = login(
                store,
                server_url=args.server,
                user=args.user,
                password=password(f"password for {args.user}: "),
                ca_file=args.ca_cert,
            )
    except BaseException:
        if new_store:  # a failed first sign-in leaves no data file behind
            for leftover in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
                leftover.unlink(missing_ok=True)
        raise
    if result.password_stored:
        where = "device token kept in the system keyring (the password is not kept)"
    else:  # shown once, for a headless machine; the server keeps only its hash
        where = f"no system keyring here: set FLOURISH_TOKEN={result.token} when you sync"
    moved = f"; {result.renumbered} offline row(s) queued for upload" if result.renumbered else ""
    print(f"signed in as teacher {result.teacher_id} (laptop {result.device_no}); {where}{moved}")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    from sync.replication.login import sign_out

    discarded = sign_out(paths.local_db_path(args.data_dir), force=args.force)
    extra = f" ({discarded} unsent change(s) discarded)" if discarded else ""
    print(f"signed out: the local store, its backups and saved passwords are removed{extra}")
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from sync.replication.engine import SyncEngine
    from sync.replication.status import queue_status

    if args.watch:
        return _sync_watch(args)
    with open_store(args) as store:
        with SyncEngine.from_store(store) as engine:
            report = engine.sync_once()
        queue = queue_status(store)
    print(report.summary())
    if queue["pending"] or queue["quarantined"]:
        raise FlourishError(
            f"not fully synced: {queue['pending']} change(s) pending, "
            f"{queue['quarantined']} held back (see 'flourish status')"
        )
    return 0


def _sync_watch(args: argparse.Namespace) -> int:
    """Keep syncing with the app's loop and retry policy (:mod:`sync.replication.worker`):
    every three minutes, and with backoff when the server cannot be reached. Prints a line
    whenever the state or the counts change; stops on Ctrl+C."""
    import time

    from sync.replication.worker import SyncLoop, SyncState, SyncStatus

    last: list[str] = []

    def show(status: SyncStatus) -> None:
        if status.state is SyncState.SYNCING:
            return
        line = f"{status.state_text()}; {status.pending_text()}"
        if status.conflicts:
            line += f"; {status.conflicts} conflict(s)"
        if line != (last[-1] if last else None):
            last.append(line)
            print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)

    with open_store(args) as store:
        loop = SyncLoop(store, on_status=show)
        loop.start()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            loop.stop()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from sync.replication.status import local_status

    if not paths.local_db_path(args.data_dir).exists():
        raise FlourishError(
            f"there is no Flourish data in {paths.data_dir(args.data_dir)} "
            "(run 'flourish login' or 'flourish demo', or give --data-dir)"
        )
    status = local_status(args.data_dir)
    if args.json:
        print_json(status)
    else:
        for key, value in status.items():
            print(f"{key:>22}: {value}")
    return 0


def cmd_encrypt(args: argparse.Namespace) -> int:
    from sync.store.storefile import KEY_ENV, encrypt

    path = paths.local_db_path(args.data_dir)
    if not path.exists():
        raise FlourishError(f"no local store at {path}")
    passphrase = os.environ.get(KEY_ENV)
    encrypt(path, key=passphrase)
    where = (
        f"your passphrase ({KEY_ENV}) is needed to open it"
        if passphrase
        else "its key is kept in the system keyring"
    )
    print(f"the local store is now encrypted; {where}")
    return 0


def cmd_decrypt(args: argparse.Namespace) -> int:
    from sync.store.storefile import decrypt

    decrypt(paths.local_db_path(args.data_dir))
    print("the local store is no longer encrypted")
    return 0
