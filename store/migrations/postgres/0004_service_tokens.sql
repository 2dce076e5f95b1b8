-- Service tokens for machines (store/servicetokens.go). The secret is stored
-- as the hex SHA-256 of its value. Times are BIGINT Unix milliseconds (UTC).

CREATE TABLE service_tokens (
	client_id    TEXT PRIMARY KEY,           -- "<32 hex>.access"
	name         TEXT NOT NULL,
	secret_hash  TEXT NOT NULL,              -- hex SHA-256 of the secret
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT,                    -- NULL: never
	disabled_at  BIGINT,                    -- NULL: enabled
	last_used_at BIGINT,                    -- written at most once a minute
	updated_at   BIGINT NOT NULL            -- changes on create, disable and enable; polled by other processes
);
