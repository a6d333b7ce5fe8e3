"""One entry's conversation with the model, and storing what survives validation.

:class:`Exchange` asks once per part of the request (one part unless the model's context
forced a split; see :mod:`desktop.assess._request`) and, when needed, once more with the
validation error fed back: a reply that is not usable at all (not JSON, wrong shape, cut
off) is asked for again in full; a usable reply with rejected proposals keeps its valid
ones and asks for corrected versions of only the rejected ones. There is never a third
request for a part. Proposals that are still invalid are dropped with their reasons
(logged with placeholders only, and kept in the entry's job row), never stored.

:func:`store_results` writes, in one transaction: the new assessments (``txn.insert``: the
sync capture path), the entry's ``llm_calls`` rows and its job row.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from desktop.assess._calibration import band_label, band_of
from desktop.assess._capabilities import SCHEMA_MODES
from desktop.assess._client import (
    Attempt,
    CallFailed,
    Cancelled,
    ContextExceeded,
    LLMClient,
    Reply,
)
from desktop.assess._confidence import calibrate, measure, round_confidence
from desktop.assess._jobs import record_calls, set_job
from desktop.assess._prompts import Prompts
from desktop.assess._redact import Redactor
from desktop.assess._request import Part, Request, existing_pairs
from desktop.assess._settings import AssessmentSettings
from desktop.assess._validate import Candidate, Checked, Dropped, check_reply
from sync.model.curriculum import Curriculum
from sync.model.records import Assessment
from sync.store.local import LocalStore

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

__all__ = ["Exchange", "store_results"]

log = logging.getLogger("desktop.assess")
_MAX_ECHO = 6000  # characters of a bad reply echoed back in the repair request


@dataclass
class Exchange:
    request: Request
    use_model_confidence: bool = False
    attempts: list[Attempt] = field(default_factory=list)
    replies: list[tuple[Reply, int]] = field(default_factory=list)  # reply, its llm_calls index
    candidates: list[tuple[Candidate, int]] = field(default_factory=list)  # and reply index
    dropped: list[Dropped] = field(default_factory=list)
    format_error: str | None = None
    part_errors: list[str] = field(default_factory=list)
    repaired: set[int] = field(default_factory=set)  # indexes of replies to a repair request

    @property
    def tokens_in(self) -> int:
        return sum(a.tokens_in for a in self.attempts)

    @property
    def tokens_out(self) -> int:
        return sum(a.tokens_out for a in self.attempts)

    @property
    def modes(self) -> list[str]:
        return list(dict.fromkeys(r.mode for r, _n in self.replies))

    def _ask(
        self, client: LLMClient, part: Part, messages: list[ChatCompletionMessageParam]
    ) -> tuple[Reply, int]:
        reply = client.complete(messages, part.schema, self.attempts)
        self.replies.append((reply, len(self.attempts) - 1))
        if len(messages) > len(part.messages):
            self.repaired.add(len(self.replies) - 1)
        return reply, len(self.replies) - 1

    def _check(self, reply: Reply, curriculum: Curriculum) -> Checked:
        if reply.finish_reason == "length":
            return Checked(format_error="the reply was cut off at the model's output limit")
        if not reply.content:
            return Checked(format_error="the reply was empty")
        return check_reply(
            reply.content,
            students=self.request.students,
            curriculum=curriculum,
            mapped=self.request.mapped,
            use_model_confidence=self.use_model_confidence,
            lenient=reply.mode not in SCHEMA_MODES,
        )

    @staticmethod
    def _follow_up(part: Part, reply: Reply, text: str) -> list[ChatCompletionMessageParam]:
        return [
            *part.messages,
            {"role": "assistant", "content": (reply.content or "")[:_MAX_ECHO]},
            {"role": "user", "content": text},
        ]

    def _add(self, found: list[tuple[Candidate, int]], dropped: list[Dropped]) -> None:
        have = {(c.student_id, c.skill.name) for c, _n in self.candidates}
        for c, n in found:
            if (c.student_id, c.skill.name) not in have:  # overlapping chunks: the first stands
                have.add((c.student_id, c.skill.name))
                self.candidates.append((c, n))
        self.dropped += dropped

    def converse(self, client: LLMClient, curriculum: Curriculum, prompts: Prompts) -> None:
        """Ask about every part (and repair once each). Raises CallFailed / Cancelled /
        ContextExceeded when a part gets no usable reply at all."""
        for part in self.request.parts:
            self._converse(part, client, curriculum, prompts)
        if self.part_errors and not self.candidates and not self.dropped:
            self.format_error = "; ".join(self.part_errors)[:900]

    def _converse(
        self, part: Part, client: LLMClient, curriculum: Curriculum, prompts: Prompts
    ) -> None:
        first, n1 = self._ask(client, part, part.messages)
        checked = self._check(first, curriculum)
        where = f" ({part.label})" if part.label else ""
        if checked.format_error:
            ask = prompts.repair_format.substitute(problem=checked.format_error)
            try:
                second, n2 = self._ask(client, part, self._follow_up(part, first, ask))
            except ContextExceeded:
                self.part_errors.append(f"unusable reply{where}: {checked.format_error}")
                return
            except CallFailed as exc:
                exc.reason = f"unusable reply ({checked.format_error}); the retry: {exc.reason}"
                raise
            again = self._check(second, curriculum)
            if again.format_error:
                self.part_errors.append(
                    f"unusable reply twice{where}: {checked.format_error}; then "
                    f"{again.format_error}"
                )
                return
            self._add([(c, n2) for c in again.candidates], again.dropped)
            return
        if not checked.dropped:
            self._add([(c, n1) for c in checked.candidates], [])
            return
        problems = "\n".join(f"- {d}" for d in checked.dropped)
        try:
            second, n2 = self._ask(
                client,
                part,
                self._follow_up(
                    part, first, prompts.repair_proposals.substitute(problems=problems)
                ),
            )
        except (CallFailed, Cancelled, ContextExceeded) as exc:
            log.info("repair request for %s failed: %s", self.request.entry.id, exc)
            self._add([(c, n1) for c in checked.candidates], checked.dropped)
            return
        again = self._check(second, curriculum)
        if again.format_error:
            self._add([(c, n1) for c in checked.candidates], checked.dropped)
            return
        have = {(c.student_id, c.skill.name) for c in checked.candidates}
        new = [c for c in again.candidates if (c.student_id, c.skill.name) not in have]
        still = max(0, len(checked.dropped) - len(new))
        self._add(
            [(c, n1) for c in checked.candidates] + [(c, n2) for c in new],
            (again.dropped + checked.dropped)[:still],
        )


def _confidence(
    candidate: Candidate,
    request: Request,
    *,
    settings: AssessmentSettings,
    redactor: Redactor,
    counts: dict[tuple[str, int], tuple[int, int]],
) -> tuple[float, dict[str, Any]]:
    entry = request.entry
    signals = measure(
        candidate,
        text=entry.content,
        entry_type=entry.type,
        owner=entry.student_id,
        redactor=redactor,
        reviewed_level=request.reviewed.get((candidate.student_id, candidate.skill.name)),
    )
    own = candidate.model_confidence
    raw = own if settings.use_llm_confidence and own is not None else signals.score()
    band = band_of(round_confidence(raw))
    decided, accepted = counts.get((candidate.skill.name, band), (0, 0))
    detail = {
        "method": "model" if settings.use_llm_confidence else "signals",
        "raw": round(raw, 3),
        "model": candidate.model_confidence,
        "signals": signals.to_dict(),
        "calibration": {"band": band_label(band), "decided": decided, "accepted": accepted},
    }
    return calibrate(raw, decided, accepted), detail


def store_results(
    store: LocalStore,
    exchange: Exchange,
    *,
    settings: AssessmentSettings,
    curriculum: Curriculum,
    prompts: Prompts,
    redactor: Redactor,
    counts: dict[tuple[str, int], tuple[int, int]],
) -> tuple[str, int, int, str]:
    """Write the entry's outcome; returns (job status, stored, dropped, reason)."""
    request = exchange.request
    entry_id = str(request.entry.id)
    for d in exchange.dropped:
        log.info("entry %s: dropped %s", entry_id, d)
    prepared = []
    for candidate, reply_no in exchange.candidates:
        confidence, detail = _confidence(
            candidate, request, settings=settings, redactor=redactor, counts=counts
        )
        prepared.append((candidate, reply_no, confidence, detail))
    with store.write() as txn:
        call_ids = record_calls(
            txn.conn,
            entry_id,
            exchange.attempts,
            model=settings.model,
            prompt_version=prompts.version,
            rubric_version=curriculum.rubric_version,
        )
        if exchange.format_error:
            set_job(txn.conn, entry_id, "failed", exchange.format_error, tried=True)
            return "failed", 0, 0, exchange.format_error
        existing = set(existing_pairs(txn.conn, entry_id))
        stored = kept = 0
        for candidate, reply_no, confidence, detail in prepared:
            pair = (candidate.student_id, candidate.skill.name)
            if pair in existing:
                log.info("entry %s: %s already has a proposal; kept it", entry_id, pair)
                kept += 1
                continue
            reply, attempt_index = exchange.replies[reply_no]
            txn.insert(
                Assessment(
                    data_entry_id=entry_id,
                    student_id=candidate.student_id,
                    skill_name=candidate.skill.name,
                    skill_category=candidate.skill.category,
                    level=candidate.level,
                    confidence_score=confidence,
                    justification=redactor.restore(candidate.justification, request.mapped.used),
                    source_quote=candidate.grounded.quote,
                    data_point_count=1,
                    rubric_version=curriculum.rubric_version,
                    provenance={
                        "model": settings.model,
                        "response_model": reply.model,
                        "prompt_version": prompts.version,
                        "rubric_version": curriculum.rubric_version,
                        "call_id": call_ids[attempt_index],
                        "response_id": reply.response_id,
                        "tokens_in": reply.tokens_in,
                        "tokens_out": reply.tokens_out,
                        "examples": request.examples,
                        "repaired": reply_no in exchange.repaired,
                        "mode": reply.mode,
                        "confidence": detail,
                    },
                )
            )
            existing.add(pair)
            stored += 1
        dropped = len(exchange.dropped)
        parts = [f"{stored} proposal(s) stored"]
        if kept:
            parts.append(f"{kept} already had a proposal (kept as it was)")
        if dropped:
            why = "; ".join(str(d) for d in exchange.dropped[:3])
            parts.append(f"{dropped} dropped: {why}")
        if exchange.part_errors and exchange.candidates:
            parts.append("; ".join(exchange.part_errors)[:300])
        if not exchange.candidates and not dropped:
            # not final: a new model, prompt or rubric version offers the entry again
            parts = [
                f"the model found no evidence of the listed skills (model {settings.model}, "
                f"prompt {prompts.version}, rubric {curriculum.rubric_version})"
            ]
        if request.scope:
            parts.append(f"asked about {request.scope}")
        reason = redactor.restore("; ".join(parts), request.mapped.used)
        status = "failed" if dropped and not stored else "done"
        set_job(txn.conn, entry_id, status, reason, tried=status == "failed")
    return status, stored, dropped, reason
