"""The seven tables of seed 000 (reconciled as ``sql/README.md`` explains), as
:func:`sync.model.tables.build` adds them for either store: the school's people, their
evidence and the AI's proposals, the teachers' corrections, targets and badges.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Numeric,
    Sequence,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from sync.model.columns import (
    ID_RANGE,
    Dialect,
    external_id,
    in_list,
    sync_columns,
    sync_index,
)
from sync.model.vocab import BADGE_LEVEL, BADGE_TYPES, CATEGORIES, ENTRY_TYPES, LEVELS

__all__ = ["add_school_tables"]


def add_school_tables(md: MetaData, d: Dialect) -> None:
    """Add the seven tables of seed 000 to ``md``, parents first."""
    levels = in_list("{col}", LEVELS)

    def level_check(col: str, name: str) -> CheckConstraint:
        return CheckConstraint(levels.format(col=col), name=name)

    Table(
        "teachers",
        md,
        Column("id", String(10), primary_key=True),
        Column("name", String(100), nullable=False),
        # Teachers' logins may not read it (column grants), so it never travels.
        Column("email", String(255), info={"sync": "hidden"}),
        Column("created_at", DateTime, server_default=d.now()),
        *sync_columns(d),
        UniqueConstraint("email", name="teachers_email_key"),
        CheckConstraint(d.digits_id("id", "T"), name="chk_teacher_id"),
        CheckConstraint(d.email("email"), name="chk_email_format"),
        *sync_index("teachers", d),
        *external_id("teachers"),
    )

    Table(
        "students",
        md,
        Column("id", String(10), primary_key=True),
        Column("name", String(100), nullable=False),
        Column("grade", Integer, nullable=False),
        Column(
            "teacher_id",
            String(10),
            d.fk("teachers.id", "RESTRICT"),
        ),
        Column("created_at", DateTime, server_default=d.now()),
        *sync_columns(d),
        CheckConstraint(d.digits_id("id", "S"), name="chk_student_id"),
        CheckConstraint("grade BETWEEN 6 AND 8", name="chk_grade_range"),
        Index("idx_students_teacher", "teacher_id"),
        *sync_index("students", d),
        *external_id("students"),
    )

    if d.central:
        # Text ids need an explicit sequence; laptops use DE<device_no * 10**9 + n>.
        Sequence("data_entries_id_seq", maxvalue=ID_RANGE - 1, metadata=md)
    de_default = (
        text("'DE' || lpad(nextval('data_entries_id_seq')::text, 3, '0')") if d.central else None
    )
    Table(
        "data_entries",
        md,
        Column("id", String(20), primary_key=True, server_default=de_default),
        d.student_ref(),
        Column(
            "teacher_id",
            String(10),
            d.fk("teachers.id", "SET NULL"),
        ),
        Column("type", String(50), nullable=False),
        Column("date", Date, nullable=False),
        Column("content", Text, nullable=False),
        Column("metadata", d.json(), server_default=text("'{}'")),
        Column("created_at", DateTime, server_default=d.now()),
        *sync_columns(d),
        CheckConstraint(d.digits_id("id", "DE"), name="chk_data_entry_id"),
        CheckConstraint(in_list("type", ENTRY_TYPES), name="chk_data_type"),
        CheckConstraint(d.trimmed_not_empty("content"), name="chk_content_not_empty"),
        Index("idx_data_entries_student_date", "student_id", "date"),
        Index("idx_data_entries_type", "type"),
        Index("idx_data_entries_date", "date"),
        Index("idx_data_entries_teacher", "teacher_id"),
        *(
            [Index("idx_data_entries_metadata", "metadata", postgresql_using="gin")]
            if d.central
            else []
        ),
        *sync_index("data_entries", d),
    )

    Table(
        "assessments",
        md,
        d.serial_id(),
        Column(
            "data_entry_id",
            String(20),
            d.fk("data_entries.id", "CASCADE"),
        ),
        d.student_ref(),
        Column("skill_name", String(100), nullable=False),
        Column("skill_category", String(50), nullable=False),
        Column("level", String(20), nullable=False),
        Column("confidence_score", Numeric(3, 2, asdecimal=False)),
        Column("justification", Text, nullable=False),
        Column("source_quote", Text, nullable=False),
        Column("data_point_count", Integer, server_default=text("1")),
        Column("rubric_version", String(10), server_default=text("'1.0'")),
        # Derived from teacher_corrections by the trigger on both sides: never sent.
        Column(
            "corrected",
            Boolean,
            server_default=text("FALSE" if d.central else "0"),
            info={"sync": "derived"},
        ),
        Column("created_at", DateTime, server_default=d.now()),
        # Touched by the same triggers: travels with the row, but alone is no change.
        Column("updated_at", DateTime, server_default=d.now(), info={"sync": "touched"}),
        Column("provenance", d.json(), server_default=text("'{}'")),
        *sync_columns(d),
        CheckConstraint(
            "confidence_score BETWEEN 0 AND 1", name="assessments_confidence_score_check"
        ),
        CheckConstraint(in_list("skill_category", CATEGORIES), name="chk_skill_category"),
        level_check("level", "chk_level"),
        CheckConstraint("data_point_count > 0", name="chk_data_point_count"),
        Index("idx_assessments_student_skill", "student_id", "skill_name"),
        Index("idx_assessments_level", "level"),
        Index("idx_assessments_data_entry", "data_entry_id"),
        Index(
            "idx_assessments_pending",
            "student_id",
            "created_at",
            postgresql_where=text("corrected = FALSE"),
            sqlite_where=text("corrected = 0"),
        ),
        Index(
            "idx_assessments_confidence",
            # central: also the second key of the review queue's ORDER BY (migration 0004)
            *(
                ("confidence_score", text("created_at DESC"))
                if d.central
                else ("confidence_score",)
            ),
            postgresql_where=text("confidence_score < 0.8"),
            sqlite_where=text("confidence_score < 0.8"),
        ),
        Index("idx_assessments_created", text("created_at DESC")),
        *sync_index("assessments", d),
    )

    Table(
        "teacher_corrections",
        md,
        d.serial_id(),
        Column(
            "assessment_id",
            BigInteger,
            d.fk("assessments.id", "CASCADE"),
        ),
        Column("original_level", String(20), nullable=False),
        Column("corrected_level", String(20), nullable=False),
        Column("original_justification", Text),
        Column("corrected_justification", Text),
        Column("teacher_notes", Text),
        d.teacher_ref("corrected_by"),
        Column("corrected_at", DateTime, server_default=d.now()),
        Column(
            "use_as_example",
            Boolean,
            nullable=False,
            server_default=text("TRUE" if d.central else "1"),
        ),
        *sync_columns(d),
        level_check("original_level", "chk_original_level"),
        level_check("corrected_level", "chk_corrected_level"),
        CheckConstraint(
            "original_level != corrected_level"
            " OR original_justification != corrected_justification",
            name="chk_levels_different",
        ),
        UniqueConstraint("assessment_id", name="teacher_corrections_assessment_id_key"),
        Index("idx_corrections_corrected_by", "corrected_by"),
        Index("idx_corrections_assessment", "assessment_id"),
        Index("idx_corrections_date", text("corrected_at DESC")),
        Index("idx_corrections_teacher", "corrected_by"),
        # Seed 001's few-shot index, narrowed to the few-shot predicate (seed 001 query 4):
        # otherwise it would duplicate idx_corrections_date exactly (sql/README.md).
        Index(
            "idx_corrections_created",
            text("corrected_at DESC"),
            postgresql_where=text("teacher_notes IS NOT NULL"),
            sqlite_where=text("teacher_notes IS NOT NULL"),
        ),
        *sync_index("teacher_corrections", d),
    )

    false = "FALSE" if d.central else "0"
    true = "TRUE" if d.central else "1"
    Table(
        "skill_targets",
        md,
        d.serial_id(),
        d.student_ref(),
        Column("skill_name", String(100), nullable=False),
        Column("starting_level", String(20)),
        Column("target_level", String(20)),
        d.teacher_ref("assigned_by"),
        Column("assigned_at", DateTime, server_default=d.now()),
        Column("completed", Boolean, nullable=False, server_default=text(false)),
        Column("completed_at", DateTime),
        *sync_columns(d),
        CheckConstraint(
            f"(completed = {false} AND completed_at IS NULL) OR "
            f"(completed = {true} AND completed_at IS NOT NULL)",
            name="chk_completion_logic",
        ),
        CheckConstraint(
            f"starting_level IS NULL OR {in_list('starting_level', LEVELS)}",
            name="chk_starting_level",
        ),
        CheckConstraint(
            f"target_level IS NULL OR {in_list('target_level', LEVELS)}", name="chk_target_level"
        ),
        Index("idx_targets_student", "student_id"),
        # Seed 000 declared UNIQUE (student_id, skill_name, completed); the intent is one
        # *active* target per skill, which this partial unique index says (sql/README.md).
        Index(
            "idx_targets_active",
            "student_id",
            "skill_name",
            unique=True,
            postgresql_where=text("completed = FALSE"),
            sqlite_where=text("completed = 0"),
        ),
        Index(
            "idx_targets_student_active",
            "student_id",
            "completed",
            postgresql_where=text("completed = FALSE"),
            sqlite_where=text("completed = 0"),
        ),
        *sync_index("skill_targets", d),
    )

    badge_pairs = " OR ".join(
        f"(badge_type = '{badge}' AND level_achieved = '{level}')"
        for badge, level in BADGE_LEVEL.items()
    )
    Table(
        "badges",
        md,
        d.serial_id(),
        d.student_ref(),
        Column("skill_name", String(100), nullable=False),
        Column("skill_category", String(50), nullable=False),
        Column("level_achieved", String(20), nullable=False),
        Column("badge_type", String(20), nullable=False),
        d.teacher_ref("granted_by"),
        Column("earned_date", Date, nullable=False),
        Column("created_at", DateTime, server_default=d.now()),
        *sync_columns(d),
        UniqueConstraint(
            "student_id",
            "skill_name",
            "level_achieved",
            name="badges_student_id_skill_name_level_achieved_key",
        ),
        CheckConstraint(in_list("skill_category", CATEGORIES), name="chk_badge_category"),
        CheckConstraint(in_list("badge_type", BADGE_TYPES), name="chk_badge_type"),
        # Checked only for known badge types, so an unknown type reports chk_badge_type.
        CheckConstraint(
            f"NOT ({in_list('badge_type', BADGE_TYPES)}) OR {badge_pairs}", name="chk_badge_level"
        ),
        Index("idx_badges_student", "student_id"),
        Index("idx_badges_earned_date", text("earned_date DESC")),
        *sync_index("badges", d),
    )
