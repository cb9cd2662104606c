-- The streams held under a lease: what a starting process reads to hand back the leases its
-- exited predecessors left. Only leased rows are in it, so that read costs the leases held,
-- not the schedule's size, and claims and releases touch an index of those rows alone.
CREATE INDEX sync_schedule_leased ON sync_schedule (lease_owner) WHERE lease_owner IS NOT NULL;
