-- Initial Gatehouse schema. Times are INTEGER Unix milliseconds (UTC).

CREATE TABLE users (
	id           TEXT PRIMARY KEY,           -- UUID, stable per email
	email        TEXT NOT NULL UNIQUE,       -- lower-cased
	created_at   INTEGER NOT NULL,
	last_sign_in INTEGER NOT NULL,
	last_idp     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE sessions (
	nonce      TEXT PRIMARY KEY,
	user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	identity   TEXT NOT NULL,                -- token.Identity as JSON
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER
);
CREATE INDEX sessions_user_id ON sessions(user_id);
CREATE INDEX sessions_expires_at ON sessions(expires_at);

CREATE TABLE handoffs (
	nonce_hash TEXT PRIMARY KEY,             -- hex SHA-256 of the nonce
	host       TEXT NOT NULL,
	payload    TEXT NOT NULL,                -- token.Handoff as JSON
	expires_at INTEGER NOT NULL,
	used_at    INTEGER
);
CREATE INDEX handoffs_expires_at ON handoffs(expires_at);

CREATE TABLE pins (
	id         TEXT PRIMARY KEY,
	email      TEXT NOT NULL,
	pin_hash   TEXT NOT NULL,                -- hex SHA-256 of id ":" pin
	expires_at INTEGER NOT NULL,
	attempts   INTEGER NOT NULL DEFAULT 0,
	used_at    INTEGER
);
CREATE INDEX pins_expires_at ON pins(expires_at);

CREATE TABLE signing_keys (
	kid         TEXT PRIMARY KEY,
	private_pem TEXT NOT NULL,               -- PKCS#8 PEM
	created_at  INTEGER NOT NULL
);

CREATE TABLE apps (
	name       TEXT PRIMARY KEY,
	aud        TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
);

CREATE TABLE audit (
	id     INTEGER PRIMARY KEY AUTOINCREMENT,
	at     INTEGER NOT NULL,
	kind   TEXT NOT NULL,
	email  TEXT NOT NULL DEFAULT '',
	app    TEXT NOT NULL DEFAULT '',
	idp    TEXT NOT NULL DEFAULT '',
	ip     TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_at ON audit(at);

CREATE TABLE revocations (
	id      INTEGER PRIMARY KEY,
	kind    TEXT NOT NULL CHECK (kind IN ('session', 'user', 'app', 'app_soft')),
	subject TEXT NOT NULL,
	at      INTEGER NOT NULL,
	by      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX revocations_kind_subject ON revocations(kind, subject);
