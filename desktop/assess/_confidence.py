"""Confidence: from observable signals (default) or the model's own figure, then calibrated.

With ``USE_LLM_CONFIDENCE=false`` (the default) the model's number is ignored — a model that
is told to be sure, or talked into it by the evidence, cannot raise it. The raw score is::

    raw = 0.05 + 0.90 * grounding * (0.20 * length + 0.30 * rubric + 0.25 * speaker
                                     + 0.25 * agreement)

each signal from 0 to 1:

``grounding``  1.0 when the quote is verbatim in the text the model saw, 0.85 when it matched
               only after normalising white space, quotes, dashes and case.
``length``     how substantial the quote is: 0 at 3 words, rising to 1 at 20 words.
``rubric``     the skill's rubric keywords (``indicators`` in the curriculum): each one in the
               quote counts 1, each one elsewhere in the entry 0.5 (at most two), capped at 1
               from a total of 2. Several passages of the entry pointing the same way agree.
``speaker``    whose words the quote is: the student's own line in a transcript 1.0; the
               owner's own journal, note or feedback 0.8; the student named in the quote 0.7;
               the student named in the same paragraph 0.6; otherwise 0.3.
``agreement``  the student's latest *teacher-reviewed* level for this skill in other
               evidence: same level 1.0, one level apart 0.7, further 0.2; none yet 0.5.

With ``USE_LLM_CONFIDENCE=true`` the raw score is the model's number.

Either way the raw score is then **calibrated** against the teachers' decisions: if teachers
have decided ``n`` proposals for this skill in the raw score's confidence band and accepted
a share ``r`` of them, the stored value is ``(n * r + 10 * raw) / (n + 10)`` — the more
decisions, the more the teachers' record outweighs the formula. The result is clamped to
0.00-1.00 and rounded to two decimals (half up), the precision of
``assessments.confidence_score``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from desktop.assess._redact import Redactor
from desktop.assess._validate import Candidate
from sync.model.vocab import LEVEL_RANK

__all__ = ["PRIOR_WEIGHT", "Signals", "calibrate", "measure", "round_confidence"]

PRIOR_WEIGHT = 10
_SPEAKER = re.compile(r"^\s*([^:\n]{1,40}):")


@dataclass(frozen=True)
class Signals:
    grounding: float
    length: float
    rubric: float
    speaker: float
    agreement: float

    def score(self) -> float:
        weighted = (
            0.20 * self.length + 0.30 * self.rubric + 0.25 * self.speaker + 0.25 * self.agreement
        )
        return 0.05 + 0.90 * self.grounding * weighted

    def to_dict(self) -> dict[str, Any]:
        return {k: round(v, 3) for k, v in asdict(self).items()}


def _count(phrases: tuple[str, ...], text: str) -> int:
    low = text.lower()
    return sum(1 for p in phrases if re.search(rf"(?<!\w){re.escape(p)}(?!\w)", low))


def _speaker_signal(
    candidate: Candidate, *, text: str, entry_type: str, owner: str | None, redactor: Redactor
) -> float:
    start, end = candidate.grounded.start, candidate.grounded.end
    line_start = text.rfind("\n", 0, start) + 1
    line = text[line_start : text.find("\n", end) if "\n" in text[end:] else len(text)]
    label = _SPEAKER.match(line)
    who = candidate.student_id
    if entry_type.endswith("_transcript") and label:
        if who in redactor.named([label.group(1)]):
            return 1.0
    elif who == owner:
        return 0.8
    if who in redactor.named([candidate.grounded.quote]):
        return 0.7
    para_start = text.rfind("\n\n", 0, start)
    para_end = text.find("\n\n", end)
    paragraph = text[para_start + 1 if para_start >= 0 else 0 : para_end if para_end >= 0 else None]
    if who in redactor.named([paragraph]):
        return 0.6
    return 0.3


def measure(
    candidate: Candidate,
    *,
    text: str,
    entry_type: str,
    owner: str | None,
    redactor: Redactor,
    reviewed_level: str | None,
) -> Signals:
    """The observable signals of one validated proposal (``text``: the original entry)."""
    words = len(candidate.grounded.quote.split())
    indicators = candidate.skill.indicators
    quote = candidate.grounded.quote
    rest = text[: candidate.grounded.start] + " " + text[candidate.grounded.end :]
    in_quote = _count(indicators, quote)
    elsewhere = min(2, _count(indicators, rest))
    if reviewed_level is None:
        agreement = 0.5
    else:
        gap = abs(LEVEL_RANK[candidate.level] - LEVEL_RANK[reviewed_level])
        agreement = 1.0 if gap == 0 else 0.7 if gap == 1 else 0.2
    return Signals(
        grounding=1.0 if candidate.grounded.exact else 0.85,
        length=min(1.0, max(0.0, (words - 3) / 17)),
        rubric=min(1.0, (in_quote + 0.5 * elsewhere) / 2),
        speaker=_speaker_signal(
            candidate, text=text, entry_type=entry_type, owner=owner, redactor=redactor
        ),
        agreement=agreement,
    )


def round_confidence(value: float) -> float:
    clamped = min(1.0, max(0.0, value))
    return float(Decimal(repr(clamped)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def calibrate(raw: float, decided: int, accepted: int) -> float:
    """Blend ``raw`` with the acceptance rate of ``decided`` earlier decisions in its band."""
    if decided <= 0:
        return round_confidence(raw)
    rate = accepted / decided
    return round_confidence((decided * rate + PRIOR_WEIGHT * raw) / (decided + PRIOR_WEIGHT))
