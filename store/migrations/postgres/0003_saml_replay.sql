-- SAML assertion IDs already accepted, kept until the assertion expires
-- (store/samlreplay.go). Times are BIGINT Unix milliseconds (UTC).

CREATE TABLE saml_assertions (
	id         TEXT PRIMARY KEY,             -- the assertion's ID attribute
	expires_at BIGINT NOT NULL              -- forgotten after this
);

CREATE INDEX saml_assertions_expires ON saml_assertions (expires_at);
