CREATE TABLE api_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms BIGINT NOT NULL,
    platform TEXT NOT NULL,
    service TEXT NOT NULL,
    method TEXT NOT NULL,
    caller TEXT NOT NULL,
    ok BIGINT NOT NULL
);
CREATE INDEX api_calls_by_time ON api_calls (at_ms);
