CREATE TABLE synced_records (
    connection_id TEXT NOT NULL REFERENCES connections(id),
    stream TEXT NOT NULL,
    record_id TEXT NOT NULL,
    updated_ms BIGINT NOT NULL,
    final BIGINT NOT NULL,
    payload TEXT NOT NULL,
    versions BIGINT NOT NULL,
    synced_ms BIGINT NOT NULL,
    PRIMARY KEY (connection_id, stream, record_id)
);
CREATE INDEX synced_records_by_update ON synced_records (connection_id, stream, updated_ms);
