CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    app_key TEXT NOT NULL UNIQUE,
    key_id TEXT NOT NULL,
    secret_ct BLOB NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    platform TEXT NOT NULL,
    mode TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    last_error TEXT,
    key_id TEXT,
    credentials_ct BLOB,
    access_expires_ms BIGINT,
    refresh_expires_ms BIGINT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE connection_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id TEXT NOT NULL REFERENCES connections(id),
    at_ms BIGINT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    detail TEXT
);

CREATE TABLE union_orders (
    connection_id TEXT NOT NULL REFERENCES connections(id),
    order_sn TEXT NOT NULL,
    status BIGINT NOT NULL,
    sub_status TEXT,
    chan_tag TEXT,
    stat_param TEXT,
    commission TEXT,
    order_time_ms BIGINT NOT NULL,
    last_update_ms BIGINT NOT NULL,
    settled BIGINT NOT NULL,
    payload TEXT NOT NULL,
    versions BIGINT NOT NULL,
    synced_ms BIGINT NOT NULL,
    PRIMARY KEY (connection_id, order_sn)
);
CREATE INDEX union_orders_by_update ON union_orders (connection_id, last_update_ms);

CREATE TABLE union_order_history (
    connection_id TEXT NOT NULL,
    order_sn TEXT NOT NULL,
    last_update_ms BIGINT NOT NULL,
    sub_status TEXT,
    commission TEXT,
    payload TEXT NOT NULL,
    PRIMARY KEY (connection_id, order_sn, last_update_ms)
);

CREATE TABLE sync_checkpoints (
    connection_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    cursor_ms BIGINT NOT NULL,
    window_start_ms BIGINT,
    window_end_ms BIGINT,
    next_page BIGINT,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (connection_id, stream)
);

CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    connection_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    started_ms BIGINT NOT NULL,
    finished_ms BIGINT,
    status TEXT NOT NULL,
    pages BIGINT NOT NULL,
    records BIGINT NOT NULL,
    error TEXT
);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms BIGINT NOT NULL,
    tenant_id TEXT,
    connection_id TEXT,
    action TEXT NOT NULL,
    detail TEXT
);
