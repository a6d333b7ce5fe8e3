"""Evidence import: .txt/.md/.docx files and folders, the naming scheme, refusals."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path, PurePath
from typing import Any

import docx
import pytest

from sync.errors import ValidationError
from sync.io.evidence_import import (
    EvidenceRefused,
    import_evidence,
    parse_entry_type,
    parse_name,
    preview_evidence,
)
from sync.store.local import LocalStore
from tests.test_cli import flourish

CORPUS = Path(__file__).parent / "fixtures" / "evidence"
D = dt.date


def entries(store: LocalStore) -> dict[str, dict[str, Any]]:
    with store.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT id, student_id, teacher_id, type, date, content, metadata FROM data_entries"
        ).mappings()
        out = {}
        for r in rows:
            item = dict(r)
            item["metadata"] = json.loads(item["metadata"] or "{}")
            out[str(r["id"])] = item
    return out


def queued_entries(store: LocalStore) -> set[str]:
    with store.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT row_pk FROM sync_operations WHERE table_name = 'data_entries' "
            "AND op = 'upsert' AND status = 'pending'"
        )
        return {str(r[0]) for r in rows}


def snapshot(store: LocalStore) -> tuple[object, ...]:
    rows = entries(store)
    with store.read() as conn:
        ops = conn.exec_driver_sql("SELECT COUNT(*) FROM sync_operations").scalar()
    return sorted(rows), ops


def make_docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                grid.cell(r, c).text = value
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "S001_reflection_journal_2026-10-12.txt",
            ("S001", "reflection_journal", D(2026, 10, 12), ""),
        ),
        (
            "S001/reflection_journal/2026-10-12 My goals.docx",
            ("S001", "reflection_journal", D(2026, 10, 12), "My goals"),
        ),
        (
            "S002/journals/2026-10-01_week 3.md",
            ("S002", "reflection_journal", D(2026, 10, 1), "week 3"),
        ),
        (
            "Period 2/S004-discussion-2026-10-02-wolves.docx",
            ("S004", "group_discussion_transcript", D(2026, 10, 2), "wolves"),
        ),
        ("s003 parent note 2026-11-30.txt", ("S003", "parent_note", D(2026, 11, 30), "")),
        (
            "S1234/teacher observation note/Lab day.txt",
            ("S1234", "teacher_observation_note", None, "Lab day"),
        ),
        ("notes/random.txt", (None, None, None, "random")),
        (  # the documented shape wins over a type word inside the title
            "S002_observation_2024-05-01_Notes on peer feedback.docx",
            ("S002", "teacher_observation_note", D(2024, 5, 1), "Notes on peer feedback"),
        ),
        (
            "S002/journal/2024-05-02 Feedback from my parent.txt",
            ("S002", "reflection_journal", D(2024, 5, 2), "Feedback from my parent"),
        ),
    ],
)
def test_naming_scheme(path: str, expected: tuple[Any, ...]) -> None:
    info = parse_name(PurePath(path))
    assert (info.student_id, info.entry_type, info.date, info.title) == expected
    assert info.bad_date is None


def test_entry_type_words() -> None:
    assert parse_entry_type("Reflection Journal") == "reflection_journal"
    assert parse_entry_type("observations") == "teacher_observation_note"
    assert parse_entry_type("peer-tutoring-transcript") == "peer_tutoring_transcript"
    assert parse_entry_type("homework") is None
    assert parse_name(PurePath("S001_journal_2026-02-30.txt")).bad_date == "2026-02-30"


def test_a_folder_imports_every_file_in_one_transaction(
    demo_store: LocalStore, tmp_path: Path
) -> None:
    folder = tmp_path / "evidence"
    shutil.copytree(CORPUS, folder)
    make_docx(
        folder / "class" / "S001" / "presentation" / "2026-10-20 Science fair.docx",
        ["Eva: Our question was whether salt slows germination.", "Lucas: It does!"],
        table=[["Salt", "Sprouted"], ["0 g", "9"], ["5 g", "4"]],
    )
    (folder / "class" / ".hidden.txt").write_text("not evidence")
    (folder / "class" / "S001" / "~$lock.docx").write_bytes(b"lock")
    (folder / "class" / "scan.tiff").write_bytes(b"II*\x00")
    before = set(entries(demo_store))
    plan = preview_evidence(demo_store, [folder])
    assert set(entries(demo_store)) == before  # the preview wrote nothing
    assert plan.refused == [] and plan.ignored == [folder / "class" / "scan.tiff"]
    result = import_evidence(demo_store, [folder])
    new = {k: v for k, v in entries(demo_store).items() if k not in before}
    assert len(new) == 5 == len(result.entries)
    by_file = {v["metadata"]["source_file"]: v for v in new.values()}
    talk = by_file["2026-10-14 Wolves and deer.txt"]
    assert (talk["student_id"], talk["type"], talk["date"], talk["teacher_id"]) == (
        "S001",
        "group_discussion_transcript",
        "2026-10-14",
        "T001",  # the teacher signed in on this store
    )
    assert talk["metadata"] == {
        "source_file": "2026-10-14 Wolves and deer.txt",
        "title": "Wolves and deer",
        "imported_from": "txt",
        "date_from": "name",
        "speakers": ["Ms. Rodriguez", "Eva", "Lucas"],
        "turns": 4,
    }
    assert "\r" not in talk["content"] and talk["content"].startswith("Ms. Rodriguez: What")
    journal = by_file["2026-10-15_week seven.md"]
    assert (journal["student_id"], journal["type"], journal["metadata"]["title"]) == (
        "S002",
        "reflection_journal",
        "week seven",
    )
    cp1252 = by_file["2026-10-16 bake sale.txt"]
    assert "café booth" in cp1252["content"] and "twice – no" in cp1252["content"]
    parent = by_file["S003_parent_note_2026-10-20_Phone call.txt"]
    assert (parent["student_id"], parent["type"], parent["metadata"]["title"]) == (
        "S003",
        "parent_note",
        "Phone call",
    )
    fair = by_file["2026-10-20 Science fair.docx"]
    assert fair["type"] == "project_presentation_transcript"
    assert fair["content"] == (
        "Eva: Our question was whether salt slows germination.\nLucas: It does!\n"
        "Salt | Sprouted\n0 g | 9\n5 g | 4"
    )
    assert fair["metadata"]["speakers"] == ["Eva", "Lucas"]
    assert fair["metadata"]["imported_from"] == "docx"
    assert set(new) <= queued_entries(demo_store)  # queued for sync
    assert {c.pk for c in result.changes} == set(new)


def _bad_files(folder: Path) -> dict[str, str]:
    """Files the import must refuse -> the reason it gives."""
    folder.mkdir(parents=True)
    (folder / "S001_journal_2026-10-01_huge.txt").write_text("x" * 1_000_001)
    (folder / "S001_journal_2026-10-02_binary.txt").write_bytes(b"PK\x03\x04\x00\x00binary")
    (folder / "S001_journal_2026-10-03_empty.txt").write_bytes(b"")
    (folder / "S001_journal_2026-10-04_blank.md").write_text("  \n\n\t\n")
    (folder / "S009_journal_2026-10-05.txt").write_text("A student this store lacks.")
    (folder / "journal_2026-10-06.txt").write_text("Whose is this?")
    (folder / "S001_2026-10-07.txt").write_text("Which kind of evidence?")
    (folder / "S001_journal_2026-02-30.txt").write_text("No such day.")
    (folder / "S001_journal_2026-10-08_broken.docx").write_bytes(b"not a zip at all")
    make_docx(folder / "S001_journal_2026-10-09_blank.docx", ["", "  "])
    (folder / "S001_journal_2026-10-10_bad utf8.txt").write_bytes(b"caf\x81 \xff\xfe")
    return {
        "S001_2026-10-07.txt": "no entry type in its name or folders",
        "S001_journal_2026-02-30.txt": "2026-02-30 in its name is not a date",
        "S001_journal_2026-10-01_huge.txt": "larger than 1 MB (1.0 MB)",
        "S001_journal_2026-10-02_binary.txt": "binary file (it contains NUL bytes), not text",
        "S001_journal_2026-10-03_empty.txt": "empty file",
        "S001_journal_2026-10-04_blank.md": "empty (no text in it)",
        "S001_journal_2026-10-08_broken.docx": "not a readable .docx file (BadZipFile)",
        "S001_journal_2026-10-09_blank.docx": "empty (no text in it)",
        "S001_journal_2026-10-10_bad utf8.txt": "neither UTF-8 nor Windows-1252 text",
        "S009_journal_2026-10-05.txt": "student S009 is not in this store",
        "journal_2026-10-06.txt": "no student id (S001) in its name or folders",
    }


def test_refused_files_block_the_whole_import_with_a_reason_each(
    demo_store: LocalStore, tmp_path: Path
) -> None:
    folder = tmp_path / "bad"
    expected = _bad_files(folder)
    good = folder / "S002_feedback_2026-10-11.txt"
    good.write_text("Lucas explained the graph clearly to our group.")
    before = snapshot(demo_store)
    with pytest.raises(EvidenceRefused) as caught:
        import_evidence(demo_store, [folder])
    got = {r.path.name: r.reason for r in caught.value.refusals}
    assert got == expected
    assert str(caught.value).splitlines()[0] == "11 files refused; nothing was imported"
    assert snapshot(demo_store) == before  # not even the good file
    result = import_evidence(demo_store, [folder], skip_bad=True)
    assert [e.metadata["source_file"] for e in result.entries if e.metadata] == [good.name]
    assert len(result.plan.refused) == 11
    assert "imported 1 evidence file(s) (queued for sync); 11 refused" in result.summary()


def test_a_file_is_not_imported_twice(demo_store: LocalStore, tmp_path: Path) -> None:
    note = tmp_path / "S001_observation_2026-10-21.txt"
    note.write_text("Eva started the lab without a reminder.")
    first = import_evidence(demo_store, [note])
    twin = tmp_path / "copy" / "S001_observation_2026-10-22.txt"
    twin.parent.mkdir()
    twin.write_text("Eva started the lab without a reminder.")
    with pytest.raises(EvidenceRefused) as caught:
        import_evidence(demo_store, [note])
    assert caught.value.refusals[0].reason == f"already imported for S001 ({first.entries[0].id})"
    other = tmp_path / "S002_observation_2026-10-22.txt"
    other.write_text("Same words, another student: fine.")
    same = tmp_path / "more" / "S002_observation_2026-10-23.txt"
    same.parent.mkdir()
    same.write_text("Same words, another student: fine.")
    with pytest.raises(EvidenceRefused, match="the same text as S002_observation_2026-10-22.txt"):
        import_evidence(demo_store, [other, same])


def test_the_caller_overrides_the_names(demo_store: LocalStore, tmp_path: Path) -> None:
    loose = make_docx(tmp_path / "Interview notes.docx", ["Mia: I start homework right away."])
    result = import_evidence(
        demo_store,
        [loose],
        student_id="s004",
        entry_type="tutoring",
        date=D(2026, 11, 2),
    )
    entry = result.entries[0]
    assert (entry.student_id, entry.type, entry.date) == (
        "S004",
        "peer_tutoring_transcript",
        D(2026, 11, 2),
    )
    assert entry.metadata is not None
    assert entry.metadata["title"] == "Interview notes"
    assert entry.metadata["date_from"] == "chosen"
    assert entry.metadata["speakers"] == ["Mia"]
    with pytest.raises(ValidationError, match="unknown entry type 'homework'"):
        import_evidence(demo_store, [loose], student_id="S004", entry_type="homework")


def test_a_file_named_directly_must_be_an_evidence_file_type(
    demo_store: LocalStore, tmp_path: Path
) -> None:
    pdf = tmp_path / "S001_journal_2026-10-01.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    odt = tmp_path / "S001_journal_2026-10-02.odt"
    odt.write_bytes(b"PK")
    with pytest.raises(EvidenceRefused) as caught:
        import_evidence(demo_store, [pdf, odt, tmp_path / "missing.txt"])
    assert [str(r) for r in caught.value.refusals] == [  # in path order
        f"{pdf}: not a readable PDF (PdfStreamError)",
        f"{odt}: not an evidence file type (.odt); use .txt, .md, .docx, .pdf, .vtt, .srt, "
        ".csv, .xlsx",
        f"{tmp_path / 'missing.txt'}: no such file or folder",
    ]


def test_without_a_date_the_file_date_is_used(demo_store: LocalStore, tmp_path: Path) -> None:
    note = tmp_path / "S002_parent.txt"
    note.write_text("Lucas has been reading every night.")
    stamp = dt.datetime(2026, 9, 30, 12, 0).timestamp()
    import os

    os.utime(note, (stamp, stamp))
    entry = import_evidence(demo_store, [note]).entries[0]
    assert entry.date == D(2026, 9, 30)
    assert entry.metadata is not None and entry.metadata["date_from"] == "file date"


def test_cli_imports_lists_and_refuses(demo_store: LocalStore, tmp_path: Path) -> None:
    data_dir = demo_store.path.parent
    demo_store.close()
    folder = tmp_path / "evidence"
    shutil.copytree(CORPUS, folder)
    dry = flourish("import", "evidence", str(folder), "--dry-run", data_dir=data_dir)
    assert dry.returncode == 0, dry.stderr
    assert "4 file(s) to import; dry run: nothing was imported" in dry.stdout
    (folder / "S001_journal_2026-10-03_empty.txt").write_bytes(b"")
    refused = flourish("import", "evidence", str(folder), data_dir=data_dir)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "flourish: 1 file refused; nothing was imported",
        f"  {folder / 'S001_journal_2026-10-03_empty.txt'}: empty file",
    ]
    done = flourish("import", "evidence", str(folder), "--skip-bad", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    assert "imported 4 evidence file(s) (queued for sync); 1 refused" in done.stdout
    assert "refused:" in done.stderr and "empty file" in done.stderr
    assert "  DE033  S003  parent_note  2026-10-20  " in done.stdout  # folder's own files first
    assert "  DE034  S001  group_discussion_transcript  2026-10-14  " in done.stdout


# -- files from the tools teachers use (tests/fixtures/evidence_tools/make_files.py) --------------

TOOLS = CORPUS.parent / "evidence_tools"
SCANNED = "S003_reflection_journal_2026-11-03_Scanned.pdf"
STORED = {  # file -> (student, type, content)
    "S001_reflection_journal_2026-10-21_Text box only.docx": (
        "S001", "reflection_journal", "My goal: finish the model bridge by Friday."
    ),
    "S002_reflection_journal_2026-10-22_Footnotes A.docx": (
        "S002", "reflection_journal",
        "I tried three ways to plan my week.\nThe calendar worked best\n\n"
        "[1] Because I can see the whole week.",
    ),
    "S002_reflection_journal_2026-10-23_Footnotes B.docx": (
        "S002", "reflection_journal",
        "I tried three ways to plan my week.\nThe calendar worked best\n\n"
        "[1] My sister showed me how.",
    ),
    "S002_reflection_journal_2026-10-24_Plain.docx": (
        "S002", "reflection_journal",
        "I tried three ways to plan my week.\nThe calendar worked best",
    ),
    "S001_peer_feedback_2026-10-25_Endnotes.docx": (
        "S001", "peer_feedback",
        "Lucas explained the graph clearly\nClarity | 4 of 4\n\n"
        "[1] He used the class data, not made-up numbers.",
    ),
    "S003_teacher_observation_note_2026-10-26_Commented.docx": (
        "S003", "teacher_observation_note",
        "Pat asked two questions in the group and waited for answers.",
    ),
    "S004_reflection_journal_2026-10-27_Strict.docx": (
        "S004", "reflection_journal",
        "Strict files are saved by Word's other format.\n\nBox in a strict file.\n\n"
        "[1] A footnote in a strict file.",
    ),
    "S002_observation_2024-05-01_Notes on peer feedback.docx": (
        "S002", "teacher_observation_note", "Lucas gave Eva kind and specific feedback."
    ),
    "S001_group_discussion_transcript_2026-10-28_Ecosystems.vtt": (
        "S001", "group_discussion_transcript",
        "Ana: What eats the deer when the wolves are gone? Maybe nothing.\n"
        "Ben: Then there are too many deer & they eat the trees.\n"
        "Sandy (?) purple shirt: I read that the rivers changed.",
    ),
    "S002_2026-10-29_Zoom recording.vtt": (
        "S002", "group_discussion_transcript",
        "Ms. Rodriguez: Today we share our projects.\n"
        "Lucas: Ours is about salt and seeds. Salt slowed them down.",
    ),
    "S003_discussion_2026-10-29_Teams captions.srt": (
        "S003", "group_discussion_transcript",
        "Pat: Can I check my answer with you?\nSam: Sure, read it out. It says forty-two.\n"
        "Sandy (?) purple shirt: That matches mine.",
    ),
    "S004_tutoring_2026-10-30_Otter export.xlsx": (
        "S004", "peer_tutoring_transcript",
        "Tutor (Maya): Let's look at question two.\nKai: I think it's a ratio. Three to four.\n"
        "Tutor (Maya): Why three to four?",
    ),
    "S001_presentation_2026-10-31_Panel.csv": (
        "S001", "project_presentation_transcript",
        "Eva: Our panel asked: does sleep change test scores?\n"
        "Judge 1: What did you measure?\nEva: Hours of sleep, and the quiz score the next day.",
    ),
    "S002_reflection_journal_2026-11-02_Handout.pdf": (
        "S002", "reflection_journal", "Photosynthesis handout\nPlants turn light into sugar."
    ),
}  # fmt: skip


def test_files_from_teachers_tools_keep_every_word_a_reader_sees(demo_store: LocalStore) -> None:
    before = set(entries(demo_store))
    with pytest.raises(EvidenceRefused) as caught:
        import_evidence(demo_store, [TOOLS])
    assert [(r.path.name, r.reason) for r in caught.value.refusals] == [
        (
            SCANNED,
            "a PDF without a text layer (1 page(s) of images, e.g. a scan): run it through "
            "OCR, or type the text",
        )
    ]
    assert set(entries(demo_store)) == before
    result = import_evidence(demo_store, [TOOLS], skip_bad=True)
    assert len(result.entries) == len(STORED)
    new = [v for k, v in entries(demo_store).items() if k not in before]
    stored = {v["metadata"]["source_file"]: (v["student_id"], v["type"], v["content"]) for v in new}
    assert stored == STORED
    meta = {v["metadata"]["source_file"]: v["metadata"] for v in new}
    assert meta["S003_teacher_observation_note_2026-10-26_Commented.docx"]["comments"] == [
        {"author": "Ms. Rodriguez", "text": "Check if this happens in other groups."}
    ]
    assert meta["S004_reflection_journal_2026-10-27_Strict.docx"]["docx_format"] == "strict"
    assert meta["S002_observation_2024-05-01_Notes on peer feedback.docx"]["title"] == (
        "Notes on peer feedback"
    )
    talk = meta["S001_group_discussion_transcript_2026-10-28_Ecosystems.vtt"]
    assert (talk["speakers"], talk["turns"], talk["imported_from"]) == (
        ["Ana", "Ben", "Sandy (?) purple shirt"], 3, "vtt"
    )  # fmt: skip
    assert talk["timestamps"] == [
        ["00:00:01.000", "00:00:07.000"],
        ["00:00:07.100", "00:00:11.000"],
        ["00:01:02.000", "00:01:05.000"],
    ]
    zoom = meta["S002_2026-10-29_Zoom recording.vtt"]
    assert zoom["type_from"] == "recording (no type in its name)"
    assert (zoom["speakers"], zoom["turns"]) == (["Ms. Rodriguez", "Lucas"], 2)
    sheet = meta["S004_tutoring_2026-10-30_Otter export.xlsx"]
    assert (sheet["speakers"], sheet["turns"]) == (["Tutor (Maya)", "Kai"], 3)
    assert sheet["timestamps"][0] == ["00:00:03", ""]
    assert meta["S002_reflection_journal_2026-11-02_Handout.pdf"]["pages"] == 1
    # the same files again: every one is already there
    again = preview_evidence(demo_store, [TOOLS])
    assert again.files == [] and len(again.refused) == len(STORED) + 1


def test_a_speaker_label_with_a_note_in_it_is_still_a_turn(
    demo_store: LocalStore, tmp_path: Path
) -> None:
    path = tmp_path / "S001_discussion_2026-10-05_Groups.txt"
    path.write_text("Sandy (?) purple shirt: I think so.\nMia: Me too.\n", encoding="utf-8")
    result = import_evidence(demo_store, [path])
    stored = entries(demo_store)[str(result.entries[0].id)]["metadata"]
    assert (stored["speakers"], stored["turns"]) == (["Sandy (?) purple shirt", "Mia"], 2)


def test_a_spreadsheet_without_speaker_and_text_columns_is_refused(
    demo_store: LocalStore, tmp_path: Path
) -> None:
    path = tmp_path / "S001_discussion_2026-10-05_Marks.csv"
    path.write_text("student,score\nEva,7\n", encoding="utf-8")
    with pytest.raises(EvidenceRefused) as caught:
        import_evidence(demo_store, [path])
    assert caught.value.refusals[0].reason == (
        "not a transcript table: the first row needs a speaker column and a text column "
        "(such as speaker, utterance); found: student, score"
    )
