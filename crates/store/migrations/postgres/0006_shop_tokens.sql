-- The tokens ERPs name a shop with on the unified API (polyapi's `token`), kept as SHA-256.
CREATE TABLE shop_tokens (
    token_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    connection_id TEXT NOT NULL REFERENCES connections(id),
    created_ms BIGINT NOT NULL
);
CREATE INDEX shop_tokens_by_connection ON shop_tokens (connection_id);

-- One-time codes handed to an ERP's callback after a shop is connected, kept as SHA-256.
CREATE TABLE connect_handoffs (
    code_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    connection_id TEXT NOT NULL REFERENCES connections(id),
    expires_ms BIGINT NOT NULL
);

-- Where the connect flow sends the person back to (an ERP's callback), with its state.
ALTER TABLE connect_states ADD COLUMN return_to TEXT;
