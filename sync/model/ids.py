"""Ids for rows born on a laptop, unique across every laptop without asking anyone.

The server's own sequences stop below ``ID_RANGE`` (10**9). When a laptop registers with
the server it receives a device number ``D >= 1`` and from then on creates ids
``D * 10**9 + n`` (``DE<D * 10**9 + n>`` for data entries), ``n`` counting up per table in
``local_counters``. Two laptops can therefore never mint the same id, offline or not, and a
foreign key written offline (a correction of an assessment made offline) stays valid after
the push: nothing is renumbered.

A store that has never registered (local-only use, the demo) is device 0 and uses the
server's range (``1, 2, 3 …``, ``DE001 …``), which is fine because nothing else shares its
rows; :func:`renumber_unregistered` moves such rows into the device's range when the store
registers with a server for the first time.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection

from sync.errors import StoreError
from sync.model.tables import ID_RANGE

__all__ = ["ID_RANGE", "allocate_id", "device_of", "format_entry_id", "student_ids"]

_TEXT_ID_TABLES = {"data_entries": "DE"}
_NATURAL_KEY_TABLES = {"teachers", "students"}


def format_entry_id(number: int, device_no: int) -> str:
    return f"DE{number:03d}" if device_no == 0 else f"DE{number}"


def device_of(pk: int | str) -> int:
    """The device number an id was minted by (0: the server or an unregistered store)."""
    number = int(pk[2:]) if isinstance(pk, str) else int(pk)
    return number // ID_RANGE


def _current_max(conn: Connection, table: str, lo: int, hi: int) -> int:
    if table in _TEXT_ID_TABLES:
        sql = (
            f"SELECT max(CAST(substr(id, 3) AS INTEGER)) FROM {table} "
            "WHERE CAST(substr(id, 3) AS INTEGER) BETWEEN ? AND ?"
        )
    else:
        sql = f"SELECT max(id) FROM {table} WHERE id BETWEEN ? AND ?"
    value = conn.exec_driver_sql(sql, (lo, hi)).scalar()
    return int(value) - lo + 1 if value is not None else 0


def allocate_id(conn: Connection, table: str, device_no: int) -> int | str:
    """The next id for ``table`` in ``device_no``'s range (inside the caller's transaction)."""
    if table in _NATURAL_KEY_TABLES:
        raise StoreError(f"{table} rows are keyed by the school's own ids; none is generated")
    lo = device_no * ID_RANGE + 1
    hi = device_no * ID_RANGE + ID_RANGE - 1
    key = f"{table}@{device_no}"
    row = conn.exec_driver_sql(
        "SELECT last_n FROM local_counters WHERE table_name = ?", (key,)
    ).first()
    if row is None:
        start = _current_max(conn, table, lo, hi)
        conn.exec_driver_sql(
            "INSERT INTO local_counters (table_name, last_n) VALUES (?, ?)", (key, start)
        )
    n = int(
        conn.exec_driver_sql(
            "UPDATE local_counters SET last_n = last_n + 1 WHERE table_name = ? RETURNING last_n",
            (key,),
        ).scalar_one()
    )
    number = lo + n - 1
    if number > hi:
        raise StoreError(f"{table}: this device has used up its id range")
    prefix = _TEXT_ID_TABLES.get(table)
    return format_entry_id(number, device_no) if prefix else number


def student_ids(conn: Connection, device_no: int, taken: set[str]) -> Iterator[str]:
    """Fresh Flourish student ids for students a roster import adds (none in ``taken``).

    Students are keyed by school-style ids (``S`` and three or more digits, at most 10
    characters), not numbers, so they get their own scheme: an unregistered store
    continues its highest id (``S005`` after ``S004``); a registered device ``D`` uses
    ``S<D><five digits>`` (``S300001`` on device 3), which no other device can mint.
    """
    digits = [
        str(r[0])[1:]
        for r in conn.exec_driver_sql("SELECT id FROM students WHERE id GLOB 'S[0-9]*'")
        if str(r[0])[1:].isdigit()
    ]
    prefix = "" if device_no == 0 else str(device_no)
    width = 3 if device_no == 0 else 5
    if device_no == 0:
        n = max((int(d) for d in digits), default=0)
    else:
        own = len(prefix) + width
        n = max(
            (int(d[len(prefix) :]) for d in digits if len(d) == own and d.startswith(prefix)),
            default=0,
        )
    while True:
        n += 1
        candidate = f"S{prefix}{n:0{width}d}"
        if len(candidate) > 10 or (prefix and n >= 10**width):
            raise StoreError("students: this device has used up its student ids")
        if candidate not in taken:
            yield candidate
