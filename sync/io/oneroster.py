"""OneRoster 1.1 and 1.2 CSV rosters: ``users.csv`` + ``enrollments.csv`` + ``classes.csv``.

Read by :func:`sync.io.roster.read_roster` when it is given a folder holding these files or
the files themselves (``manifest.csv`` and 1.2's ``roles.csv`` are read when present;
other OneRoster files such as ``orgs.csv`` may sit beside them and are not read). The
result is a :class:`sync.io.schoolroster.SchoolRoster`; :func:`sync.io.schoolroster.resolve`
decides what of it is imported. Column names follow the OneRoster CSV binding (1EdTech,
"OneRoster 1.1 CSV Tables" and "OneRoster 1.2 CSV Binding"), matched in any case.

* **Version.** ``manifest.csv`` (``propertyName,value``) gives ``oneroster.version``;
  without a manifest, a ``users.csv`` without a ``role`` column is 1.2 (where roles moved
  to ``roles.csv``). A person's role comes from ``users.csv`` ``role`` (1.1), else
  ``roles.csv`` (1.2), else their enrollments.
* **Delta sets** (``file.users`` etc. ``delta`` in the manifest) hold only the changes
  since an earlier export; they are refused with that reason — export a bulk set.
* **Ids.** A person's external id (source ``oneroster``) is their ``identifier`` (the
  school's number), or, where it is empty (it is optional), their ``sourcedId``; the notes
  say which was used. An ``identifier`` of Flourish's own shape (``S001``, ``T001``)
  is also taken as the Flourish id.
* Rows whose ``status`` is ``tobedeleted`` are passed over in every file; so are students
  whose ``enabledUser`` is ``false`` (counted in the notes).
* A class's teacher is its ``primary`` teacher enrollment, else its first teacher.

Every problem comes with its file and line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sync.io.rosterfiles import (
    RosterProblem,
    Table,
    locate_files,
    read_table,
    require_columns,
)
from sync.io.schoolroster import Person, SchoolClass, SchoolRoster

__all__ = ["ONE_ROSTER_FILES", "is_oneroster", "read_oneroster"]

ONE_ROSTER_FILES = ("users.csv", "enrollments.csv", "classes.csv")
_OPTIONAL = ("manifest.csv", "roles.csv")
_COLUMNS = {
    "users.csv": ("sourcedid", "givenname", "familyname"),
    "enrollments.csv": ("classsourcedid", "usersourcedid", "role"),
    "classes.csv": ("sourcedid", "title"),
    "roles.csv": ("usersourcedid", "role"),
    "manifest.csv": ("propertyname", "value"),
}
_ROLES = ("student", "teacher")


def is_oneroster(paths: Sequence[Path]) -> bool:
    """Files or a folder of OneRoster's (``users.csv`` is what sets it apart)."""
    for p in paths:
        names = [c.name.lower() for c in p.iterdir()] if p.is_dir() else [p.name.lower()]
        if any(n in ONE_ROSTER_FILES for n in names):
            return True
    return False


def _live(table: Table) -> tuple[list[tuple[int, dict[str, str]]], set[str]]:
    """Live rows as dicts, and the ids of rows marked ``tobedeleted``."""
    live, deleted = [], set()
    for line, row in table.records():
        if row.get("status", "").lower() == "tobedeleted":
            deleted.add(row.get("sourcedid", ""))
        else:
            live.append((line, row))
    return live, deleted


def _manifest(table: Table | None, problems: list[RosterProblem]) -> str | None:
    """The OneRoster version the manifest names; problems for delta files."""
    if table is None:
        return None
    props = {row["propertyname"].lower(): (line, row["value"]) for line, row in table.records()}
    for name in ONE_ROSTER_FILES:
        line, mode = props.get(f"file.{name.removesuffix('.csv')}", (0, ""))
        if mode.lower() == "delta":
            problems.append(
                RosterProblem(
                    table.name,
                    line,
                    f"{name} is a delta (incremental) set: it holds only the changes since an "
                    "earlier export; Flourish imports bulk (full) sets — export a bulk set",
                )
            )
    return props.get("oneroster.version", (0, ""))[1] or None


def read_oneroster(paths: Sequence[Path], problems: list[RosterProblem]) -> SchoolRoster | None:
    """Read a OneRoster set; appends problems; None when its files cannot be used."""
    located = locate_files(
        paths, problems, system="OneRoster", required=ONE_ROSTER_FILES, optional=_OPTIONAL
    )
    tables: dict[str, Table] = {}
    encodings: dict[str, str] = {}
    for name in (*ONE_ROSTER_FILES, *_OPTIONAL):
        if name in located:
            table = read_table(located[name], problems)
            encodings[located[name].name] = table.encoding if table else "?"
            if table is not None and require_columns(table, _COLUMNS[name], problems):
                tables[name] = table
    before = len(problems)
    version = _manifest(tables.get("manifest.csv"), problems)
    if len(problems) > before or any(n not in tables for n in ONE_ROSTER_FILES):
        return None
    users_t = tables["users.csv"]
    if version is None:
        version = "1.1" if "role" in users_t.header else "1.2"
    roster = SchoolRoster(f"OneRoster {version}", "oneroster", encodings)
    roster.users_file = users_t.name

    class_rows, deleted_classes = _live(tables["classes.csv"])
    for _line, row in class_rows:
        key = row["sourcedid"]
        roster.classes[key] = SchoolClass(key, row["title"] or key, code=row.get("classcode", ""))
    user_rows, deleted_users = _live(users_t)
    users = {row["sourcedid"]: (line, row) for line, row in user_rows}

    roles: dict[str, str] = {}
    if "roles.csv" in tables:
        for _line, row in _live(tables["roles.csv"])[0]:
            if row["role"].lower() in _ROLES:
                primary = row.get("roletype", "primary").lower() != "secondary"
                if primary or row["usersourcedid"] not in roles:
                    roles[row["usersourcedid"]] = row["role"].lower()
    for user, (_line, row) in users.items():
        if row.get("role", "").lower() in _ROLES:
            roles[user] = row["role"].lower()

    enrol = tables["enrollments.csv"]
    teachers: dict[str, list[tuple[bool, str]]] = {}
    for line, row in _live(enrol)[0]:
        role = row["role"].lower()
        cls, user = row["classsourcedid"], row["usersourcedid"]
        if role not in _ROLES or cls in deleted_classes or user in deleted_users:
            continue
        if cls not in roster.classes:
            problems.append(RosterProblem(enrol.name, line, f"class {cls!r} is not in classes.csv"))
            continue
        if user not in users:
            problems.append(RosterProblem(enrol.name, line, f"user {user!r} is not in users.csv"))
            continue
        roles.setdefault(user, role)
        if role == "teacher":
            primary = row.get("primary", "").lower() == "true"
            teachers.setdefault(cls, []).append((not primary, user))
        elif roles[user] == "student":
            roster.classes[cls].students.append(user)
    for cls, found in teachers.items():
        roster.classes[cls].teachers = [u for _p, u in sorted(found, key=lambda f: f[0])]

    used: dict[str, int] = {}
    for user, (line, row) in users.items():
        role = roles.get(user, "")
        if role not in _ROLES:
            continue
        if role == "student" and row.get("enableduser", "").lower() == "false":
            roster.disabled += 1
            continue
        ident = row.get("identifier", "")
        used["identifier" if ident else "sourcedId"] = (
            used.get("identifier" if ident else "sourcedId", 0) + 1
        )
        person = Person(
            file=users_t.name,
            line=line,
            key=user,
            external_id=ident or user,
            name=" ".join(p for p in (row["givenname"], row["familyname"]) if p),
            grades=tuple(g.strip() for g in row.get("grades", "").split(",") if g.strip()),
            email=row.get("email", ""),
            flourish_id=ident,
        )
        (roster.students if role == "student" else roster.teachers)[user] = person
    if used.get("sourcedId"):
        roster.notes.append(
            "external ids: identifier for "
            f"{used.get('identifier', 0)} user(s), sourcedId for {used['sourcedId']} "
            "(their identifier is empty)"
        )
    return roster
