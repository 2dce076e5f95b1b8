-- The node registry: every serving Gatehouse on this store registers a row
-- at start, rewrites heartbeat_at and watermark (the newest revocation-log
-- entry it has applied) about every second, and deletes its row on a clean
-- stop. A revoke waits for the watermark of every other live node.
CREATE TABLE nodes (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	started_at   BIGINT NOT NULL,
	heartbeat_at BIGINT NOT NULL,
	watermark    BIGINT NOT NULL DEFAULT 0
);
