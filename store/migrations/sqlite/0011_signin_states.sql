-- The pending sign-ins of the redirecting providers (kind 'signin': the
-- flow, PKCE verifier, nonce or SAML request ID) and the pending sign-outs
-- at OpenID providers (kind 'signout'), shared by every node
-- (store/signinstates.go). The single-use state is kept as its hex SHA-256,
-- so that a reader of the database cannot complete someone's sign-in. A
-- row is taken (deleted) by the first callback that presents its state.
-- Times are INTEGER Unix milliseconds (UTC).
CREATE TABLE signin_states (
	kind       TEXT NOT NULL,
	state_hash TEXT NOT NULL,
	value      BLOB NOT NULL,                -- JSON of the pending sign-in or sign-out
	expires_at INTEGER NOT NULL,             -- refused and purged from this time on
	PRIMARY KEY (kind, state_hash)
);
CREATE INDEX signin_states_kind_expires ON signin_states (kind, expires_at);
