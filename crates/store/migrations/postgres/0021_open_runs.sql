-- The runs still fetching, by stream: a process taking a stream over ends those that a stopped
-- process left open, without reading the stream's whole run history.
CREATE INDEX sync_runs_open ON sync_runs (connection_id, stream) WHERE status = 'fetching';
