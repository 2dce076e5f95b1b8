-- Start-up loads the nonces of revoked, unexpired sessions into memory. This
-- partial covering index lets that scan read only revoked sessions, from the
-- index alone, instead of every session row.
CREATE INDEX sessions_revoked ON sessions (expires_at, nonce) WHERE revoked_at IS NOT NULL;
