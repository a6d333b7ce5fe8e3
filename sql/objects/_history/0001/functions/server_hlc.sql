-- drop: DROP FUNCTION IF EXISTS server_hlc();
-- The server's own hybrid-logical-clock reading: wall clock milliseconds << 16.
-- Used when a row is written on the server without a client stamp (psql, admin tools,
-- the corrected-flag trigger), so server-side changes take part in timestamp-wins.
CREATE OR REPLACE FUNCTION server_hlc() RETURNS bigint
LANGUAGE sql VOLATILE
AS $$
    SELECT (floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) << 16
$$;
