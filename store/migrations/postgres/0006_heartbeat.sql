-- One row that /readyz rewrites to prove the database records writes.
CREATE TABLE heartbeat (
	id  BIGINT PRIMARY KEY CHECK (id = 1),
	at  BIGINT NOT NULL,
	pad BYTEA NOT NULL
);
