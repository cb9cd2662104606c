-- Every distinct version of a synced record, as it was stored.
CREATE TABLE synced_record_history (
    connection_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    record_id TEXT NOT NULL,
    updated_ms BIGINT NOT NULL,
    synced_ms BIGINT NOT NULL,
    payload TEXT NOT NULL
);
CREATE INDEX synced_record_history_by_record ON synced_record_history (connection_id, stream, record_id);
