-- When each (connection, stream) runs next, and which hub process holds it while it runs.
CREATE TABLE sync_schedule (
    connection_id TEXT NOT NULL REFERENCES connections(id),
    stream TEXT NOT NULL,
    interval_ms BIGINT NOT NULL,
    next_run_ms BIGINT NOT NULL,
    lease_owner TEXT,
    lease_until_ms BIGINT,
    last_status TEXT,
    last_finished_ms BIGINT,
    PRIMARY KEY (connection_id, stream)
);
CREATE INDEX sync_schedule_due ON sync_schedule (next_run_ms);

-- Expiry warnings already raised, so each is raised once per token.
CREATE TABLE expiry_warnings (
    connection_id TEXT NOT NULL REFERENCES connections(id),
    kind TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    warned_ms BIGINT NOT NULL,
    PRIMARY KEY (connection_id, kind, expires_ms)
);
