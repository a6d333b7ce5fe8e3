"""The demo dataset and the curriculum: complete, consistent and validated."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from sync.model.curriculum import CurriculumError, load_curriculum
from sync.model.demo import demo_dataset
from sync.model.queries import count_pending_reviews, student_summaries
from sync.model.vocab import CATEGORIES, ENTRY_TYPES, LEVELS, target_progress
from sync.store.local import LocalStore


def test_curriculum_has_17_skills_in_three_categories() -> None:
    c = load_curriculum()
    assert len(c.skills) == 17
    counts = Counter(s.category for s in c.skills)
    assert counts == {"SEL": 5, "EF": 8, "21st_Century": 4}
    assert {cat.id for cat in c.categories} == set(CATEGORIES)
    for skill in c.skills:
        assert list(skill.levels) == list(LEVELS)
        assert len(skill.description) > 20
        assert all(len(text.split()) >= 10 for text in skill.levels.values())
        assert skill.indicators


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["skills"][3]["levels"].pop("Advanced"), r"skills\[3\]\.levels\.Advanced"),
        (lambda d: d["skills"][0].update(category="Art"), r"skills\[0\]\.category 'Art'"),
        (lambda d: d["skills"].append(dict(d["skills"][1])), r"appears twice"),
        (lambda d: d["skills"][5].update(description=""), r"skills\[5\]\.description"),
        (lambda d: d.update(levels=d["levels"][:3]), r"levels must list"),
    ],
)
def test_malformed_curriculum_names_file_and_field(tmp_path: Path, mutate, message) -> None:  # type: ignore[no-untyped-def]
    from sync.paths import resource_path

    data = json.loads(resource_path("curriculum", "skills.json").read_text())
    mutate(data)
    bad = tmp_path / "skills.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(CurriculumError, match=message) as info:
        load_curriculum(bad)
    assert str(bad) in str(info.value)


def test_broken_json_reports_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "skills.json"
    bad.write_text('{"rubric_version": "1.0",\n  "levels": [,]}')
    with pytest.raises(CurriculumError, match=r"line 2, column"):
        load_curriculum(bad)


def test_target_progress_runs_from_the_starting_level_to_the_target() -> None:
    """One rule for the student view and the report (each once had its own copy)."""
    assert target_progress("Emerging", "Advanced", "Emerging", completed=False) == 0.0
    assert target_progress("Emerging", "Advanced", "Proficient", completed=False) == 2 / 3
    assert target_progress(None, "Developing", None, completed=False) == 0.0
    assert target_progress(None, "Proficient", "Emerging", completed=False) == 1 / 3
    assert target_progress("Proficient", "Proficient", "Emerging", completed=False) == 0.0
    assert target_progress("Emerging", "Advanced", "Advanced", completed=False) == 1.0
    assert target_progress("Emerging", "Advanced", None, completed=True) == 1.0
    from desktop.report.data import TargetRow as ReportTarget
    from desktop.student.data import TargetRow as StudentTarget

    report = ReportTarget("Empathy", "Emerging", "Advanced", "Proficient", False, None, None)
    student = StudentTarget(1, "Empathy", "Emerging", "Advanced", "Proficient", None, False, None)
    assert report.progress == student.progress == 2 / 3


def test_demo_dataset_is_rich_enough() -> None:
    data = demo_dataset()
    per_student = defaultdict(list)
    for entry in data.entries:
        per_student[entry["student_id"]].append(entry)
    assert set(per_student) == {"S001", "S002", "S003", "S004"}
    assert all(len(entries) >= 5 for entries in per_student.values())
    assert {e["type"] for e in data.entries} == set(ENTRY_TYPES)
    skills_by_student = defaultdict(set)
    for a in data.assessments:
        skills_by_student[a["student_id"]].add(a["skill_name"])
    assert all(len(skills) == 17 for skills in skills_by_student.values())
    confidences = [a["confidence_score"] for a in data.assessments]
    assert min(confidences) <= 0.45 and max(confidences) >= 0.95
    assert 0.4 <= min(confidences) and max(confidences) <= 0.98
    assessed = {a["data_entry_id"] for a in data.assessments}
    assert data.awaiting and not (data.awaiting & assessed)
    texts = {e["id"]: e["content"] for e in data.entries}
    assert all(a["source_quote"] in texts[a["data_entry_id"]] for a in data.assessments)


def test_demo_store_has_a_review_queue_and_nothing_queued(demo_store: LocalStore) -> None:
    with demo_store.read() as conn:
        students = student_summaries(conn)
        assert [s.id for s in students] == ["S001", "S002", "S004", "S003"]  # by name
        assert count_pending_reviews(conn) == len(demo_dataset().assessments)
        queued = conn.exec_driver_sql("SELECT COUNT(*) FROM sync_operations").scalar()
    assert queued == 0
    assert demo_store.state("profile") == "demo"
