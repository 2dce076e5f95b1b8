-- TLS certificates, ACME accounts and locks of certmagic (store/certstore.go).
-- Times are INTEGER Unix milliseconds (UTC).

CREATE TABLE certmagic_data (
	key         TEXT PRIMARY KEY,            -- slash-separated, no leading or trailing '/'
	value       BLOB NOT NULL,
	modified_at INTEGER NOT NULL
);

CREATE TABLE certmagic_locks (
	name       TEXT PRIMARY KEY,
	owner      TEXT NOT NULL,                -- random token of the holder
	expires_at INTEGER NOT NULL              -- stale (free to take) after this
);
