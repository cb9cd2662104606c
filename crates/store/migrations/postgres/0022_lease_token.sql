-- Each claim of a stream gets a token of its own, which renewals, releases and page writes
-- check: two claims of one stream by one process (its renewals failed for a whole lease, then
-- it claimed the stream again) are told apart, as claims by two processes are by their owner.
ALTER TABLE sync_schedule ADD COLUMN lease_token TEXT;
