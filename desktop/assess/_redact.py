"""Names never leave the laptop: roster names become stable placeholders, and come back.

Every person in the store's ``students`` and ``teachers`` tables gets a placeholder fixed by
their position in the roster sorted by id: ``[STUDENT_1]``, ``[TEACHER_1]``. Each name is
matched in several forms: the whole name ("Ms. Rodriguez"), the name without its honorific
("Rodriguez") and each part of it ("Eva", "Martinez"); case-insensitively, at word
boundaries, so "EVA", "eva" and "Eva's" are caught. A form that two people share (two
students called Sam) becomes an ``[NAME_n]`` placeholder that stands for nobody in
particular. A name that is also a common English word ("Will", "May", "Pat") is replaced
only where it is capitalised, so "pat on the back" stays readable.

:meth:`Redactor.redact` returns the redacted text together with, for every character, the
span of the original text it came from. The pipeline grounds the model's quote in the
redacted text the model saw and maps the match back, so the stored quote is the original
words, verbatim. Justifications come back through :meth:`Redactor.restore`.

Limits: only names the store knows are replaced. A classmate who is not on this teacher's
roster (or a nickname) is not recognised; teachers should write roster names in evidence.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = ["Mapped", "Person", "Redactor"]

_HONORIFICS = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "coach", "sir", "madam"}
_COMMON_WORDS = frozenset(
    """will may june april august grace hope joy faith mark pat bill rose summer autumn
    dawn sky art jack bob ray max sue rich sunny bee bud chip drew gene guy hunter iris
    ivy jay jean lily penny robin sandy skip sterling true wade young glen dale brook
    christian frank earnest honor king miles page reed rob scott""".split()
)
PLACEHOLDER = re.compile(r"\[(?:STUDENT|TEACHER|NAME)_\d+\]")


@dataclass(frozen=True)
class Person:
    key: str  # S001, T001
    kind: str  # "student" | "teacher"
    name: str
    placeholder: str

    @property
    def default_form(self) -> str:
        """How a restored placeholder reads when the entry never named the person."""
        core = _core_words(self.name)
        if self.kind == "student" and core:
            return core[0]
        return self.name


@dataclass
class Mapped:
    """Redacted text; ``starts[i]:ends[i]`` is the original span of redacted character i."""

    original: str
    text: str
    starts: list[int]
    ends: list[int]
    used: dict[str, Counter[str]] = field(default_factory=dict)  # placeholder -> forms
    present: set[str] = field(default_factory=set)  # keys of people named (capitalised)


def _core_words(name: str) -> list[str]:
    words = [w.strip(".,") for w in name.split()]
    return [w for w in words if w and w.lower() not in _HONORIFICS]


def _forms(name: str) -> set[str]:
    forms = {" ".join(name.split())}
    core = _core_words(name)
    if core:
        forms.add(" ".join(core))
    forms |= {w for w in core if len(w) >= 2}
    return {f for f in forms if f}


class Redactor:
    """Replaces roster names by placeholders. Immutable after construction; thread-safe."""

    def __init__(self, students: Iterable[tuple[str, str]], teachers: Iterable[tuple[str, str]]):
        people = [
            Person(key, "student", name, f"[STUDENT_{n}]")
            for n, (key, name) in enumerate(sorted(students), start=1)
        ] + [
            Person(key, "teacher", name, f"[TEACHER_{n}]")
            for n, (key, name) in enumerate(sorted(teachers), start=1)
        ]
        self.people: dict[str, Person] = {p.key: p for p in people}
        self._by_placeholder = {p.placeholder: p for p in people}
        owners: dict[str, set[str]] = {}
        spelled: dict[str, str] = {}
        for person in people:
            for form in _forms(person.name):
                owners.setdefault(form.lower(), set()).add(person.key)
                spelled.setdefault(form.lower(), form)
        self._owner: dict[str, Person | None] = {}
        self._placeholder: dict[str, str] = {}
        self._ambiguous: dict[str, str] = {}  # [NAME_n] -> the shared form
        for n, form in enumerate(sorted(f for f, keys in owners.items() if len(keys) > 1), 1):
            self._placeholder[form] = f"[NAME_{n}]"
            self._ambiguous[f"[NAME_{n}]"] = spelled[form]
            self._owner[form] = None
        for form, keys in owners.items():
            if len(keys) == 1:
                person = self.people[next(iter(keys))]
                self._placeholder[form] = person.placeholder
                self._owner[form] = person
        alternatives = sorted(owners, key=len, reverse=True)
        body = "|".join(re.escape(f).replace(r"\ ", r"\s+") for f in alternatives)
        self._pattern = re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.I) if body else None

    def placeholder(self, key: str) -> str:
        return self.people[key].placeholder

    def person(self, placeholder: str) -> Person | None:
        return self._by_placeholder.get(placeholder)

    def redact(self, text: str) -> Mapped:
        out: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        mapped = Mapped(text, "", starts, ends)
        pos = 0
        for m in self._pattern.finditer(text) if self._pattern else ():
            written = m.group(0)
            form = " ".join(written.split()).lower()
            if form in _COMMON_WORDS and not written[0].isupper():
                continue
            for k in range(pos, m.start()):
                out.append(text[k])
                starts.append(k)
                ends.append(k + 1)
            placeholder = self._placeholder[form]
            out.append(placeholder)
            starts.extend([m.start()] * len(placeholder))
            ends.extend([m.end()] * len(placeholder))
            mapped.used.setdefault(placeholder, Counter())[written] += 1
            owner = self._owner[form]
            if owner is not None and written[0].isupper():
                mapped.present.add(owner.key)
            pos = m.end()
        for k in range(pos, len(text)):
            out.append(text[k])
            starts.append(k)
            ends.append(k + 1)
        mapped.text = "".join(out)
        return mapped

    def redact_text(self, text: str | None) -> str:
        return "" if not text else self.redact(text).text

    def named(self, values: Sequence[str]) -> set[str]:
        """Keys of the people named (in any case) in short fields such as speaker lists."""
        keys: set[str] = set()
        for value in values:
            for m in self._pattern.finditer(value) if self._pattern else ():
                owner = self._owner[" ".join(m.group(0).split()).lower()]
                if owner is not None:
                    keys.add(owner.key)
        return keys

    def restore(self, text: str, used: dict[str, Counter[str]] | None = None) -> str:
        """Placeholders back to names, in the form the entry itself used most."""

        def name_for(m: re.Match[str]) -> str:
            token = m.group(0)
            forms = (used or {}).get(token)
            if forms:
                return forms.most_common(1)[0][0]
            if token in self._ambiguous:
                return self._ambiguous[token]
            person = self._by_placeholder.get(token)
            return person.default_form if person else token

        return PLACEHOLDER.sub(name_for, text)
