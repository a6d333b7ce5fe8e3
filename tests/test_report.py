"""The progress report PDF: every demo student, text and levels, names, page breaks."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from PySide6.QtGui import QImage, QPdfWriter
from PySide6.QtWidgets import QApplication

from desktop.report import load_report_data, render_report
from desktop.report.layout import Metrics, Row, paginate
from desktop.report.render import MARGIN, build_blocks
from sync import actions
from sync.errors import NotFoundError, ValidationError
from sync.io.roster import import_roster
from sync.model.curriculum import load_curriculum
from sync.store.local import LocalStore
from tests.test_cli import flourish

DEMO = {"S001": "Eva", "S002": "Lucas", "S003": "Pat", "S004": "Mia"}
ROSTER = Path(__file__).parent / "fixtures" / "roster"


def pdf_text(path: Path) -> list[str]:
    """Each page's text, white space collapsed (pypdf separates words with tabs) and words
    that wrapped at a hyphen joined again."""
    pages = []
    for page in PdfReader(str(path)).pages:
        text = re.sub(r"\s+", " ", page.extract_text())
        pages.append(re.sub(r"(\w)- (\w)", r"\1-\2", text))
    return pages


def effective(store: LocalStore, student: str) -> dict[str, str]:
    with store.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT skill_name, effective_level FROM effective_levels WHERE student_id = ?",
            (student,),
        )
        return {str(k): str(v) for k, v in rows}


def decorate(store: LocalStore) -> None:
    """Decisions, targets and badges for S001, so every section has content."""
    actions.accept(store, assessment_id=1, teacher_id="T001")
    actions.correct(store, assessment_id=2, teacher_id="T001", level="Advanced", notes="led it")
    actions.assign_target(
        store,
        student_id="S001",
        skill_name="Time Management",
        target_level="Advanced",
        teacher_id="T001",
    )
    for skill, kind in (("Self-Awareness", "bronze"), ("Collaboration", "silver")):
        actions.grant_badge(
            store, student_id="S001", skill_name=skill, badge_type=kind, teacher_id="T001"
        )


@pytest.mark.parametrize("student", sorted(DEMO))
def test_report_for_every_demo_student(
    qapp: QApplication, demo_store: LocalStore, tmp_path: Path, student: str
) -> None:
    decorate(demo_store)
    out = tmp_path / f"{student}.pdf"
    pages = render_report(demo_store, student, out)
    assert pages == 3
    assert len(PdfReader(str(out)).pages) == pages
    text = " ".join(pdf_text(out))
    levels = effective(demo_store, student)
    for skill in load_curriculum().skills:
        if skill.name in levels:
            assert f"{skill.name} {levels[skill.name]}" in text, skill.name
        else:
            assert f"{skill.name} no evidence yet" in text, skill.name
    for category in ("Social-Emotional Learning", "Executive Function", "21st Century Skills"):
        assert category in text
    assert f"Student {student}" in text
    for name in DEMO.values():  # no student's name without --include-name
        assert not re.search(rf"\b{name}\b", text), name
    assert f"Page 1 of {pages}" in text and f"Page {pages} of {pages}" in text
    assert "Growth over time" in text and "In the student's own words" in text
    if student == "S001":
        assert "Time Management Developing Advanced" in text  # the target row
        assert "Self-Awareness Bronze · Developing" in text and "Collaboration Silver" in text
        assert "(confirmed by the teacher)" not in text  # levels only in the skills table


def test_names_only_with_include_name(
    qapp: QApplication, demo_store: LocalStore, tmp_path: Path
) -> None:
    out = tmp_path / "named.pdf"
    render_report(demo_store, "S001", out, include_name=True)
    text = " ".join(pdf_text(out))
    assert "Eva (S001)" in text
    for other in ("Lucas", "Pat", "Mia"):  # classmates stay anonymous in quotes too
        assert not re.search(rf"\b{other}\b", text), other
    with demo_store.read() as conn:
        data = load_report_data(conn, "S002", include_name=False, max_quotes=20)
    assert data.display_name == "Student S002"
    assert all("Lucas" not in q.text for q in data.quotes)
    assert data.quotes
    from desktop.report.data import _Names  # the quotes' name rule, on a line that names both

    with demo_store.read() as conn:
        names = _Names(conn, "S002", "S002")
    assert names("Lucas told Pat the answer") == "S002 told [classmate] the answer"


def test_a_student_without_evidence_and_a_period_without_it(
    qapp: QApplication, demo_store: LocalStore, tmp_path: Path
) -> None:
    import_roster(demo_store, [ROSTER / "good_utf8.csv"])
    out = tmp_path / "new.pdf"
    render_report(demo_store, "S101", out)
    text = " ".join(pdf_text(out))
    assert text.count("no evidence yet") == 17
    assert "No evidence yet in this period" in text and "No targets have been set yet." in text
    early = tmp_path / "early.pdf"
    render_report(
        demo_store, "S001", early, date_from=dt.date(2026, 1, 1), date_to=dt.date(2026, 8, 31)
    )
    text = " ".join(pdf_text(early))
    assert "Period: Jan 1, 2026 to Aug 31, 2026" in text
    assert text.count("no evidence yet") == 17


def test_a_period_counts_only_its_evidence(qapp: QApplication, demo_store: LocalStore) -> None:
    with demo_store.read() as conn:
        whole = load_report_data(conn, "S001")
        september = load_report_data(
            conn, "S001", date_from=dt.date(2026, 9, 1), date_to=dt.date(2026, 9, 30)
        )
    assert sum(s.evidence for s in september.skills) < sum(s.evidence for s in whole.skills)
    assert all(h.day.month == 9 for h in september.history)
    assert september.entries < whole.entries


def test_page_breaks_never_split_a_block(
    qapp: QApplication, demo_store: LocalStore, tmp_path: Path
) -> None:
    skills = [s.name for s in load_curriculum().skills]
    for skill in skills:  # a target for every skill and badges everywhere: long tables
        actions.assign_target(
            demo_store, student_id="S001", skill_name=skill, target_level="Advanced",
            teacher_id="T001", starting_level="Emerging",
        )  # fmt: skip
        for kind in ("bronze", "silver", "gold"):
            actions.grant_badge(
                demo_store, student_id="S001", skill_name=skill, badge_type=kind,
                teacher_id="T001",
            )  # fmt: skip
    with demo_store.read() as conn:
        data = load_report_data(conn, "S001", max_quotes=12)
    writer = QPdfWriter(str(tmp_path / "probe.pdf"))
    writer.setResolution(300)
    m = Metrics(writer)
    width, height = m.pt(612 - 2 * MARGIN), m.pt(792 - 2 * MARGIN - 24)
    blocks = build_blocks(data)
    pages = paginate(blocks, m, width, height)
    assert len(pages) >= 4
    seen: list[Any] = []
    for page in pages:
        assert page, "no empty pages"
        for placed in page:
            assert placed.top + placed.height <= height + 0.01  # whole on its page
        first = page[0].block
        if isinstance(first, Row) and first in blocks and first.header is not None:
            pytest.fail("a table row starts a page without its header")
        seen += [id(p.block) for p in page]
    assert list(dict.fromkeys(seen)) == [id(b) for b in blocks]  # all blocks, in order
    repeated = [p for p in pages[1:] if len(p) > 1 and p[1].block.header is p[0].block]
    assert len(seen) - len(blocks) == len(repeated) >= 1  # headers repeated on new pages
    pdf = tmp_path / "long.pdf"
    assert render_report(demo_store, "S001", pdf) == len(pages)
    text = pdf_text(pdf)
    for skill in skills:  # each target row is on one page
        assert sum(f"{skill} Emerging Advanced" in page for page in text) == 1, skill


def test_page_one_renders_to_an_image(
    qapp: QApplication, demo_store: LocalStore, tmp_path: Path
) -> None:
    out = tmp_path / "r.pdf"
    render_report(demo_store, "S002", out)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", "-singlefile", str(out),
         str(tmp_path / "page1")],
        check=True,
    )  # fmt: skip
    image = QImage(str(tmp_path / "page1.png"))
    assert (image.width(), image.height()) == (425, 550)  # US Letter at 50 dpi
    inked = sum(
        1
        for x in range(0, image.width(), 3)
        for y in range(0, image.height(), 3)
        if image.pixelColor(x, y).lightness() < 200
    )
    assert inked > 500  # text, pills and rules are there, not a blank page


def test_renders_off_the_gui_thread_without_widgets(
    qapp: QApplication, demo_store: LocalStore, tmp_path: Path
) -> None:
    widgets = len(QApplication.allWidgets())
    result: dict[str, Any] = {}

    def work() -> None:
        try:
            result["pages"] = render_report(demo_store, "S003", tmp_path / "t.pdf")
        except BaseException as exc:  # pragma: no cover - reported below
            result["error"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(60)
    assert "error" not in result and result["pages"] == 3
    assert len(QApplication.allWidgets()) == widgets


def test_bad_requests(qapp: QApplication, demo_store: LocalStore, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="student S999: not in this store"):
        render_report(demo_store, "S999", tmp_path / "x.pdf")
    with pytest.raises(ValidationError, match="starts .* after it ends"):
        render_report(
            demo_store, "S001", tmp_path / "x.pdf",
            date_from=dt.date(2026, 10, 1), date_to=dt.date(2026, 9, 1),
        )  # fmt: skip
    assert not (tmp_path / "x.pdf").exists()


def test_cli_report_runs_headless(demo_store: LocalStore, tmp_path: Path) -> None:
    data_dir = demo_store.path.parent
    demo_store.close()
    env = {"QT_QPA_PLATFORM": "", "DISPLAY": "", "WAYLAND_DISPLAY": ""}
    out = tmp_path / "S001.pdf"
    done = flourish("report", "S001", "--out", str(out), "--include-name", data_dir=data_dir,
                    env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "(3 pages, with the student's name)" in done.stdout
    assert "Eva (S001)" in " ".join(pdf_text(out))
    ranged = flourish("report", "S001", "--out", str(tmp_path / "r.pdf"), "--from",
                      "2026-10-01", "--to", "2026-10-31", data_dir=data_dir, env=env)  # fmt: skip
    assert ranged.returncode == 0, ranged.stderr
    assert "Period: Oct 1, 2026 to Oct 31, 2026" in " ".join(pdf_text(tmp_path / "r.pdf"))
    missing = flourish("report", "S999", "--out", str(tmp_path / "m.pdf"), data_dir=data_dir)
    assert missing.returncode == 1 and missing.stderr.count("\n") == 1
    bad = flourish("report", "S001", "--out", str(tmp_path / "b.pdf"), "--from", "10/01/2026",
                   data_dir=data_dir)  # fmt: skip
    assert bad.returncode == 2 and "--from must be a date like 2026-10-12" in bad.stderr
