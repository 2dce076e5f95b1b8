-- The counters of the limits shared by every node, such as the PIN emails
-- and wrong codes per address (store/limits.go). Each key of a limit is a
-- token bucket kept as its theoretical arrival time (GCRA): the bucket is
-- full again, and the row purged, once tat_ms has passed. The key is kept
-- as its hex SHA-256 (it is an e-mail address). Times are BIGINT Unix
-- milliseconds (UTC).
CREATE TABLE limit_counters (
	name     TEXT NOT NULL,                  -- the limit, e.g. 'pin-send'
	key_hash TEXT NOT NULL,
	tat_ms   BIGINT NOT NULL,
	PRIMARY KEY (name, key_hash)
);
CREATE INDEX limit_counters_tat ON limit_counters (tat_ms);
