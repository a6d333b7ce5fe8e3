-- Local store schema, version 2: the AI pipeline's local bookkeeping (frozen).
-- assessment_jobs: evidence waiting for (or failed) AI assessment, with the reason.
-- llm_calls: one row per call to the model: tokens, model, prompt version, outcome.

CREATE TABLE assessment_jobs (
	data_entry_id VARCHAR(20) NOT NULL, 
	status VARCHAR(12) NOT NULL, 
	reason TEXT, 
	attempts INTEGER DEFAULT 0 NOT NULL, 
	next_attempt_at DATETIME, 
	updated_at DATETIME DEFAULT CURRENT_TIMESTAMP, 
	PRIMARY KEY (data_entry_id), 
	CONSTRAINT chk_job_status CHECK (status IN ('waiting', 'running', 'done', 'failed', 'skipped')), 
	FOREIGN KEY(data_entry_id) REFERENCES data_entries (id) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE INDEX ix_assessment_jobs_status ON assessment_jobs (status);

CREATE TABLE llm_calls (
	id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, 
	data_entry_id VARCHAR(20), 
	started_at DATETIME NOT NULL, 
	duration_ms INTEGER, 
	model VARCHAR(100), 
	prompt_version VARCHAR(20), 
	rubric_version VARCHAR(10), 
	tokens_in INTEGER, 
	tokens_out INTEGER, 
	outcome VARCHAR(20) NOT NULL, 
	detail TEXT
);

CREATE INDEX ix_llm_calls_started ON llm_calls (started_at);
