-- A connect flow that re-authorizes an existing connection (keeping its id, data and tokens).
ALTER TABLE connect_states ADD COLUMN connection_id TEXT;
