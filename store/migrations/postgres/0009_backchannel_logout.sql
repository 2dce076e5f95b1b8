-- What an OpenID provider said about its own session at sign-in, kept with
-- the global session for back-channel logout (matched by sid, else by the
-- subject) and RP-initiated logout (the ID token is the id_token_hint; it
-- is kept only for providers that sign out with Gatehouse).
CREATE TABLE idp_sessions (
	nonce    TEXT PRIMARY KEY REFERENCES sessions(nonce) ON DELETE CASCADE,
	idp      TEXT NOT NULL,
	subject  TEXT NOT NULL,
	sid      TEXT NOT NULL DEFAULT '',
	id_token TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idp_sessions_sid ON idp_sessions (idp, sid) WHERE sid != '';
CREATE INDEX idp_sessions_subject ON idp_sessions (idp, subject);

-- The jti of every accepted back-channel logout token, until it expires, so
-- that a replayed logout token is refused.
CREATE TABLE logout_jtis (
	idp        TEXT NOT NULL,
	jti        TEXT NOT NULL,
	expires_at BIGINT NOT NULL,
	PRIMARY KEY (idp, jti)
);
CREATE INDEX logout_jtis_expires_at ON logout_jtis (expires_at);
