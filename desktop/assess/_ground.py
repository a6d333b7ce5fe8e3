"""Grounding: a proposal's quote must really be in the entry's text.

The model quotes the redacted text it saw. A quote is grounded when, after normalising both
sides, it occurs in that text; the match is then mapped back through the redaction (see
:class:`~desktop.assess._redact.Mapped`) to the original characters, and *those* are what
is stored, so ``assessments.source_quote`` is always verbatim from the entry.

Normalisation (applied to both sides, character by character, keeping the map): curly
quotes and primes become straight quotes, dashes become ``-``, the ellipsis character
becomes ``...``, non-breaking and other spaces become a space, runs of white space become
one space, letters are compared in lower case. Leading and trailing white space and
punctuation of the quote are ignored. A quote shorter than :data:`MIN_WORDS` words is not
evidence of anything and is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop.assess._redact import Mapped

__all__ = ["MIN_WORDS", "Grounded", "ground", "normalise"]

MIN_WORDS = 3

_CHAR_MAP = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u0060\u00b4", "'"),
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb", '"'),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"),
    "\u2026": "...",
}
_EDGE = " \t\n.,;:!?\"'()-"


def _norm_char(ch: str) -> str:
    if ch in _CHAR_MAP:
        return _CHAR_MAP[ch]
    if ch.isspace():
        return " "
    return ch.lower()


def normalise(text: str) -> tuple[str, list[int]]:
    """Normalised text and, per output character, the index of its source character."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        for piece in _norm_char(ch):
            if piece == " " and out and out[-1] == " ":
                continue
            out.append(piece)
            index.append(i)
    return "".join(out), index


@dataclass(frozen=True)
class Grounded:
    quote: str  # the original text, verbatim
    start: int  # span in the original text
    end: int
    exact: bool  # the model's quote was character-for-character in the text it saw


def ground(quote: str, mapped: Mapped) -> Grounded | None:
    """Where ``quote`` occurs in the entry, or None (also for quotes that are too short)."""
    wanted = normalise(quote)[0].strip(_EDGE)
    if len(wanted.split()) < MIN_WORDS:
        return None
    haystack, index = normalise(mapped.text)
    at = haystack.find(wanted)
    if at < 0:
        return None
    first, last = index[at], index[at + len(wanted) - 1]
    start, end = mapped.starts[first], mapped.ends[last]
    exact = quote.strip() in mapped.text
    return Grounded(quote=mapped.original[start:end], start=start, end=end, exact=exact)
