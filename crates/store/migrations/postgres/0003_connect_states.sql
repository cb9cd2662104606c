CREATE TABLE connect_states (
    state TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    platform TEXT NOT NULL,
    mode TEXT NOT NULL,
    name TEXT NOT NULL,
    seller TEXT,
    redirect_uri TEXT NOT NULL,
    expires_ms BIGINT NOT NULL,
    used BIGINT NOT NULL
);
