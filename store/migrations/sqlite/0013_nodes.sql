-- The node registry: every serving Gatehouse on this store registers a row
-- at start, rewrites heartbeat_at and watermark (the newest revocation-log
-- entry it has applied) about every second, and deletes its row on a clean
-- stop. A revoke waits for the watermark of every other live node.
CREATE TABLE nodes (
	id           TEXT PRIMARY KEY,
	name         TEXT NOT NULL,
	started_at   INTEGER NOT NULL,
	heartbeat_at INTEGER NOT NULL,
	watermark    INTEGER NOT NULL DEFAULT 0
);
