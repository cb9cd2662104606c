-- Signed unified-API writes already acted on, so that a replayed request (same sign, same
-- body, still inside the timestamp window) answers the first result instead of acting again.
CREATE TABLE signed_requests (
    tenant_id TEXT NOT NULL,
    request_key TEXT NOT NULL,
    answer TEXT,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, request_key)
);
CREATE INDEX signed_requests_by_age ON signed_requests (created_ms);
