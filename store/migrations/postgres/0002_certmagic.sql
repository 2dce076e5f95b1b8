-- TLS certificates, ACME accounts and locks of certmagic (store/certstore.go).
-- Times are BIGINT Unix milliseconds (UTC).

CREATE TABLE certmagic_data (
	key         TEXT COLLATE "C" PRIMARY KEY, -- slash-separated, no leading or trailing '/'; compared bytewise
	value       BYTEA NOT NULL,
	modified_at BIGINT NOT NULL
);

CREATE TABLE certmagic_locks (
	name       TEXT PRIMARY KEY,
	owner      TEXT NOT NULL,                -- random token of the holder
	expires_at BIGINT NOT NULL              -- stale (free to take) after this
);
