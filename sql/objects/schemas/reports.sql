-- drop: DROP SCHEMA IF EXISTS reports CASCADE;
-- Read models for school leadership (flourish_auditor): views that run with the owner's
-- rights, so an auditor reads them without any privilege on the tables behind them.
CREATE SCHEMA IF NOT EXISTS reports;
