-- Admin API tokens (store/apitokens.go). The secret is stored as the hex
-- SHA-256 of its value. Times are BIGINT Unix milliseconds (UTC).

CREATE TABLE api_tokens (
	id           TEXT PRIMARY KEY,           -- 16 hex, public
	name         TEXT NOT NULL,
	token_hash   TEXT NOT NULL UNIQUE,       -- hex SHA-256 of the secret
	scopes       TEXT NOT NULL,              -- comma-separated, e.g. "read,revoke"
	created_at   BIGINT NOT NULL,
	created_by   TEXT NOT NULL DEFAULT '',
	expires_at   BIGINT,                    -- NULL: never
	last_used_at BIGINT,                    -- written at most once a minute
	revoked_at   BIGINT                     -- NULL: in force
);
