-- One row that /readyz rewrites to prove the database records writes.
CREATE TABLE heartbeat (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	at  INTEGER NOT NULL,
	pad BLOB NOT NULL
);
