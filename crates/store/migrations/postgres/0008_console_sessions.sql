-- Web console sign-ins: the cookie's value and its CSRF token, kept as SHA-256 / plain random.
CREATE TABLE console_sessions (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    csrf TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
