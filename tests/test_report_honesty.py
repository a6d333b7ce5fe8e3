"""What the progress report claims: only the student's own words under "In the student's
own words", one wording per skill's level, the app's mark for levels not reviewed, and no
heading alone at the end of a page — on real demo stores and the real PDF writer."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QPdfWriter
from PySide6.QtWidgets import QApplication

from desktop.core.marks import UNREVIEWED
from desktop.report import load_report_data, render_report
from desktop.report.data import own_words
from desktop.report.layout import Block, Metrics, paginate
from desktop.report.render import MARGIN, build_blocks
from sync import actions
from sync.model.curriculum import load_curriculum
from sync.store.local import LocalStore
from tests.test_report import DEMO, pdf_text

NAMES = {"pat quinn", "pat", "s003"}


@pytest.mark.parametrize(
    ("content", "quote", "kind", "expected"),
    [
        ("I planned my week.", "planned my week", "reflection_journal", True),
        ("Pat: I will draw it.\nMia: Ok.", "I will draw it", "peer_tutoring_transcript", True),
        ("Pat: Fine.\nMia: I will draw it.", "I will draw it", "peer_tutoring_transcript", False),
        ("Pat helped everyone today.", "Pat helped everyone", "teacher_observation_note", False),
        ("Pat was kind.", "Pat was kind", "parent_note", False),
        ("Pat: hi", "not there", "group_discussion_transcript", False),
    ],
)
def test_own_words(content: str, quote: str, kind: str, expected: bool) -> None:
    assert own_words(content, quote, kind, NAMES) is expected


@pytest.mark.parametrize("student", sorted(DEMO))
def test_quotes_are_the_students_own_words(demo_store: LocalStore, student: str) -> None:
    with demo_store.read() as conn:
        name = str(
            conn.exec_driver_sql("SELECT name FROM students WHERE id = ?", (student,)).scalar_one()
        )
        names = {name.lower(), name.split()[0].lower(), student.lower()}
        # make a teacher's note the most trusted quote there is: it still must not show
        note = conn.exec_driver_sql(
            "SELECT a.id FROM assessments a JOIN data_entries de ON de.id = a.data_entry_id "
            "WHERE a.student_id = ? AND de.type = 'teacher_observation_note' LIMIT 1",
            (student,),
        ).scalar()
    if note is not None:
        actions.accept(demo_store, assessment_id=int(note), teacher_id="T001")
    with demo_store.read() as conn:
        data = load_report_data(conn, student, include_name=True, max_quotes=17)
        own = set()
        for content, quote, kind in conn.exec_driver_sql(
            "SELECT de.content, a.source_quote, de.type FROM assessments a "
            "JOIN data_entries de ON de.id = a.data_entry_id WHERE a.student_id = ?",
            (student,),
        ):
            if own_words(str(content), str(quote), kind, names):
                own.add(" ".join(str(quote).split())[:40])
    assert data.quotes
    for q in data.quotes:
        assert q.entry_type not in ("teacher_observation_note", "parent_note", "peer_feedback")
        assert any(q.text.startswith(o[:20]) or o.startswith(q.text[:20]) for o in own), q.text


def test_one_wording_per_level_and_the_unreviewed_mark(
    qapp: QApplication, demo_store: LocalStore, tmp_path: Path
) -> None:
    actions.correct(demo_store, assessment_id=1, teacher_id="T001", level="Emerging")
    pdf = tmp_path / "r.pdf"
    render_report(demo_store, "S001", pdf)
    text = " ".join(pdf_text(pdf))
    assert "confirmed by the teacher)" not in text  # levels are said in the skills table only
    assert "not yet reviewed" not in text
    with demo_store.read() as conn:
        data = load_report_data(conn, "S001")
    unreviewed = [s for s in data.skills if s.level and not s.reviewed]
    assert unreviewed
    assert text.count(UNREVIEWED) >= len(unreviewed)


def _is_heading(block: Block, blocks: list[Block]) -> bool:
    """A section heading, or a table's heading row (the header of a row)."""
    return block.keep_with_next or any(getattr(b, "header", None) is block for b in blocks)


def test_no_heading_ends_a_page(qapp: QApplication, demo_store: LocalStore, tmp_path: Path) -> None:
    """Wherever a page would break right after a heading, the heading moves on with what
    follows it: the page height is chosen so that the break falls just after each heading
    in turn (the "Targets" heading and the targets table's heading row among them)."""
    skills = [s.name for s in load_curriculum().skills]
    for skill in skills[:3]:
        actions.assign_target(
            demo_store, student_id="S001", skill_name=skill,
            target_level="Advanced", teacher_id="T001", starting_level="Emerging",
        )  # fmt: skip
    writer = QPdfWriter(str(tmp_path / "probe.pdf"))
    writer.setResolution(300)
    m = Metrics(writer)
    width = m.pt(612 - 2 * MARGIN)
    with demo_store.read() as conn:
        blocks = build_blocks(load_report_data(conn, "S001", max_quotes=8))
    headings = [i for i, b in enumerate(blocks[:-1]) if _is_heading(b, blocks)]
    targets = next(i for i, b in enumerate(blocks) if getattr(b, "text", None) == "Targets")
    assert {targets, targets + 1} <= set(headings)  # the heading and the table's heading row
    tried = 0
    for i in headings:
        end = sum(b.height(m, width) for b in blocks[: i + 1])
        # the page ends just after block i: block i + 1 no longer fits
        height = end + blocks[i + 1].height(m, width) / 2
        first_page = paginate(blocks, m, width, height)[0]
        tried += 1
        last = first_page[-1].block
        assert not _is_heading(last, blocks), (i, last)
        assert first_page[-1].top + first_page[-1].height <= height
    assert tried == len(headings) > 10
