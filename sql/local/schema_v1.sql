-- Local store schema, version 1 (frozen: later changes are new migration steps).
-- Generated once from sync.model.tables.LOCAL; tests prove migrated files match the model.

CREATE TABLE local_counters (
	table_name VARCHAR(40) NOT NULL, 
	last_n BIGINT NOT NULL, 
	PRIMARY KEY (table_name)
);


CREATE TABLE sync_apply_guard (
	id INTEGER NOT NULL, 
	applying INTEGER DEFAULT 0 NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT chk_single_row CHECK (id = 1)
);


CREATE TABLE sync_conflicts (
	id INTEGER NOT NULL, 
	table_name VARCHAR(40) NOT NULL, 
	row_pk VARCHAR(40) NOT NULL, 
	student_id VARCHAR(10), 
	teacher_id VARCHAR(10), 
	kind VARCHAR(30) NOT NULL, 
	reason TEXT NOT NULL, 
	losing_row JSON NOT NULL, 
	losing_hlc BIGINT NOT NULL, 
	losing_origin INTEGER NOT NULL, 
	winning_row JSON, 
	winning_hlc BIGINT, 
	winning_origin INTEGER, 
	created_at DATETIME DEFAULT CURRENT_TIMESTAMP, 
	resolution VARCHAR(20), 
	resolved_at DATETIME, 
	sync_hlc BIGINT DEFAULT 0 NOT NULL, 
	sync_origin INTEGER DEFAULT 0 NOT NULL, 
	sync_version BIGINT DEFAULT 0 NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT chk_conflict_kind CHECK (kind IN ('stale_write', 'natural_key', 'deleted_row', 'human_decision')), 
	CONSTRAINT chk_conflict_resolution CHECK (resolution IS NULL OR resolution IN ('reapplied', 'dismissed'))
);

CREATE INDEX ix_sync_conflicts_teacher ON sync_conflicts (teacher_id, created_at);

CREATE TABLE sync_operations (
	op_id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	table_name VARCHAR(40) NOT NULL, 
	row_pk VARCHAR(40) NOT NULL, 
	op VARCHAR(10) NOT NULL, 
	payload TEXT NOT NULL, 
	sync_hlc BIGINT NOT NULL, 
	student_id VARCHAR(10), 
	created_at DATETIME DEFAULT CURRENT_TIMESTAMP, 
	status VARCHAR(12) DEFAULT 'pending' NOT NULL, 
	attempts INTEGER DEFAULT 0 NOT NULL, 
	last_error TEXT, 
	CONSTRAINT chk_op CHECK (op IN ('upsert', 'delete')), 
	CONSTRAINT chk_op_status CHECK (status IN ('pending', 'quarantined'))
);

CREATE INDEX ix_sync_operations_row ON sync_operations (table_name, row_pk);
CREATE INDEX ix_sync_operations_status ON sync_operations (status, op_id);

CREATE TABLE sync_state (
	"key" VARCHAR(40) NOT NULL, 
	value TEXT NOT NULL, 
	PRIMARY KEY ("key")
);


CREATE TABLE teachers (
	id VARCHAR(10) NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	email VARCHAR(255), 
	created_at DATETIME DEFAULT CURRENT_TIMESTAMP, 
	sync_hlc BIGINT DEFAULT 0 NOT NULL, 
	sync_origin INTEGER DEFAULT 0 NOT NULL, 
	sync_version BIGINT DEFAULT 0 NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT teachers_email_key UNIQUE (email), 
	CONSTRAINT chk_teacher_id CHECK (id GLOB 'T[0-9][0-9][0-9]*' AND substr(id, 2) NOT GLOB '*[^0-9]*'), 
	CONSTRAINT chk_email_format CHECK (email GLOB '?*@?*.[A-Za-z][A-Za-z]*' AND email NOT GLOB '*[^A-Za-z0-9._%+@-]*')
);


CREATE TABLE students (
	id VARCHAR(10) NOT NULL, 
	name VARCHAR(100) NOT NULL, 
	grade INTEGER NOT NULL, 
	teacher_id VARCHAR(10), 
	created_at DATETIME DEFAULT CURRENT_TIMESTAMP, 
	sync_hlc BIGINT DEFAULT 0 NOT NULL, 
	sync_origin INTEGER DEFAULT 0 NOT NULL, 
	sync_version BIGINT DEFAULT 0 NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT chk_student_id CHECK (id GLOB 'S[0-9][0-9][0-9]*' AND substr(id, 2) NOT GLOB '*[^0-9]*'), 
	CONSTRAINT chk_grade_range CHECK (grade BETWEEN 6 AND 8), 
	FOREIGN KEY(teacher_id) REFERENCES teachers (id) ON DELETE RESTRICT ON UPDATE CASCADE
);

CREATE INDEX idx_students_teacher ON students (teacher_id);

CREATE TABLE badges (
	id INTEGER NOT NULL, 
	student_id VARCHAR(10), 
	skill_name VARCHAR(100) NOT NULL, 
	skill_category VARCHAR(50) NOT NULL, 
	level_achieved VARCHAR(20) NOT NULL, 
	badge_type VARCHAR(20) NOT NULL, 
	granted_by VARCHAR(10), 
	earned_date DATE NOT NULL, 
	created_at DATETIME DEFAULT CURRENT_TIMESTAMP, 
	sync_hlc BIGINT DEFAULT 0 NOT NULL, 
	sync_origin INTEGER DEFAULT 0 NOT NULL, 
	sync_version BIGINT DEFAULT 0 NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT badges_student_id_skill_name_level_achieved_key UNIQUE (student_id, skill_name, level_achieved), 
	CONSTRAINT chk_badge_category CHECK (skill_category IN ('SEL', 'EF', '21st_Century')), 
	CONSTRAINT chk_badge_type CHECK (badge_type IN ('bronze', 'silver', 'gold')), 
	CONSTRAINT chk_badge_level CHECK (NOT (badge_type IN ('bronze', 'silver', 'gold')) OR (badge_type = 'bronze' AND level_achieved = 'Developing') OR (badge_type = 'silver' AND level_achieved = 'Proficient') OR (badge_type = 'gold' AND level_achieved = 'Advanced')), 
	FOREIGN KEY(student_id) REFERENCES students (id) ON DELETE CASCADE ON UPDATE CASCADE, 
	FOREIGN KEY(granted_by) REFERENCES teachers (id) ON UPDATE CASCADE
);

CREATE INDEX idx_badges_earned_date ON badges (earned_date DESC);
CREATE INDEX idx_badges_student ON badges (student_id);

CREATE TABLE data_entries (
	id VARCHAR(20) NOT NULL, 
	student_id VARCHAR(10), 
	teacher_id VARCHAR(10), 
	type VARCHAR(50) NOT NULL, 
	date DATE NOT NULL, 
	content TEXT NOT NULL, 
	metadata JSON DEFAULT '{}', 
	created_at DATETIME DEFAULT CURRENT_TIMESTAMP, 
	sync_hlc BIGINT DEFAULT 0 NOT NULL, 
	sync_origin INTEGER DEFAULT 0 NOT NULL, 
	sync_version BIGINT DEFAULT 0 NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT chk_data_entry_id CHECK (id GLOB 'DE[0-9][0-9][0-9]*' AND substr(id, 3) NOT GLOB '*[^0-9]*'), 
	CONSTRAINT chk_data_type CHECK (type IN ('group_discussion_transcript', 'peer_tutoring_transcript', 'project_presentation_transcript', 'reflection_journal', 'peer_feedback', 'teacher_observation_note', 'parent_note')), 
	CONSTRAINT chk_content_not_empty CHECK (LENGTH(TRIM(content)) > 0), 
	FOREIGN KEY(student_id) REFERENCES students (id) ON DELETE CASCADE ON UPDATE CASCADE, 
	FOREIGN KEY(teacher_id) REFERENCES teachers (id) ON DELETE SET NULL ON UPDATE CASCADE
);

CREATE INDEX idx_data_entries_date ON data_entries (date);
CREATE INDEX idx_data_entries_student_date ON data_entries (student_id, date);
CREATE INDEX idx_data_entries_teacher ON data_entries (teacher_id);
CREATE INDEX idx_data_entries_type ON data_entries (type);

CREATE TABLE skill_targets (
	id INTEGER NOT NULL, 
	student_id VARCHAR(10), 
	skill_name VARCHAR(100) NOT NULL, 
	starting_level VARCHAR(20), 
	target_level VARCHAR(20), 
	assigned_by VARCHAR(10), 
	assigned_at DATETIME DEFAULT CURRENT_TIMESTAMP, 
	completed BOOLEAN DEFAULT 0 NOT NULL, 
	completed_at DATETIME, 
	sync_hlc BIGINT DEFAULT 0 NOT NULL, 
	sync_origin INTEGER DEFAULT 0 NOT NULL, 
	sync_version BIGINT DEFAULT 0 NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT chk_completion_logic CHECK ((completed = 0 AND completed_at IS NULL) OR (completed = 1 AND completed_at IS NOT NULL)), 
	CONSTRAINT chk_starting_level CHECK (starting_level IS NULL OR starting_level IN ('Emerging', 'Developing', 'Proficient', 'Advanced')), 
	CONSTRAINT chk_target_level CHECK (target_level IS NULL OR target_level IN ('Emerging', 'Developing', 'Proficient', 'Advanced')), 
	FOREIGN KEY(student_id) REFERENCES students (id) ON DELETE CASCADE ON UPDATE CASCADE, 
	FOREIGN KEY(assigned_by) REFERENCES teachers (id) ON UPDATE CASCADE
);

CREATE UNIQUE INDEX idx_targets_active ON skill_targets (student_id, skill_name) WHERE completed = 0;
CREATE INDEX idx_targets_student ON skill_targets (student_id);
CREATE INDEX idx_targets_student_active ON skill_targets (student_id, completed) WHERE completed = 0;

CREATE TABLE assessments (
	id INTEGER NOT NULL, 
	data_entry_id VARCHAR(20), 
	student_id VARCHAR(10), 
	skill_name VARCHAR(100) NOT NULL, 
	skill_category VARCHAR(50) NOT NULL, 
	level VARCHAR(20) NOT NULL, 
	confidence_score NUMERIC(3, 2), 
	justification TEXT NOT NULL, 
	source_quote TEXT NOT NULL, 
	data_point_count INTEGER DEFAULT 1, 
	rubric_version VARCHAR(10) DEFAULT '1.0', 
	corrected BOOLEAN DEFAULT 0, 
	created_at DATETIME DEFAULT CURRENT_TIMESTAMP, 
	updated_at DATETIME DEFAULT CURRENT_TIMESTAMP, 
	provenance JSON DEFAULT '{}', 
	sync_hlc BIGINT DEFAULT 0 NOT NULL, 
	sync_origin INTEGER DEFAULT 0 NOT NULL, 
	sync_version BIGINT DEFAULT 0 NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT assessments_confidence_score_check CHECK (confidence_score BETWEEN 0 AND 1), 
	CONSTRAINT chk_skill_category CHECK (skill_category IN ('SEL', 'EF', '21st_Century')), 
	CONSTRAINT chk_level CHECK (level IN ('Emerging', 'Developing', 'Proficient', 'Advanced')), 
	CONSTRAINT chk_data_point_count CHECK (data_point_count > 0), 
	FOREIGN KEY(data_entry_id) REFERENCES data_entries (id) ON DELETE CASCADE ON UPDATE CASCADE, 
	FOREIGN KEY(student_id) REFERENCES students (id) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE INDEX idx_assessments_confidence ON assessments (confidence_score) WHERE confidence_score < 0.8;
CREATE INDEX idx_assessments_created ON assessments (created_at DESC);
CREATE INDEX idx_assessments_data_entry ON assessments (data_entry_id);
CREATE INDEX idx_assessments_level ON assessments (level);
CREATE INDEX idx_assessments_pending ON assessments (student_id, created_at) WHERE corrected = 0;
CREATE INDEX idx_assessments_student_skill ON assessments (student_id, skill_name);

CREATE TABLE teacher_corrections (
	id INTEGER NOT NULL, 
	assessment_id BIGINT, 
	original_level VARCHAR(20) NOT NULL, 
	corrected_level VARCHAR(20) NOT NULL, 
	original_justification TEXT, 
	corrected_justification TEXT, 
	teacher_notes TEXT, 
	corrected_by VARCHAR(10), 
	corrected_at DATETIME DEFAULT CURRENT_TIMESTAMP, 
	use_as_example BOOLEAN DEFAULT 1 NOT NULL, 
	sync_hlc BIGINT DEFAULT 0 NOT NULL, 
	sync_origin INTEGER DEFAULT 0 NOT NULL, 
	sync_version BIGINT DEFAULT 0 NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT chk_original_level CHECK (original_level IN ('Emerging', 'Developing', 'Proficient', 'Advanced')), 
	CONSTRAINT chk_corrected_level CHECK (corrected_level IN ('Emerging', 'Developing', 'Proficient', 'Advanced')), 
	CONSTRAINT chk_levels_different CHECK (original_level != corrected_level OR original_justification != corrected_justification), 
	CONSTRAINT teacher_corrections_assessment_id_key UNIQUE (assessment_id), 
	FOREIGN KEY(assessment_id) REFERENCES assessments (id) ON DELETE CASCADE ON UPDATE CASCADE, 
	FOREIGN KEY(corrected_by) REFERENCES teachers (id) ON UPDATE CASCADE
);

CREATE INDEX idx_corrections_assessment ON teacher_corrections (assessment_id);
CREATE INDEX idx_corrections_corrected_by ON teacher_corrections (corrected_by);
CREATE INDEX idx_corrections_created ON teacher_corrections (corrected_at DESC) WHERE teacher_notes IS NOT NULL;
CREATE INDEX idx_corrections_date ON teacher_corrections (corrected_at DESC);
CREATE INDEX idx_corrections_teacher ON teacher_corrections (corrected_by);
