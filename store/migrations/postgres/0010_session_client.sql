-- What the browser of each global session says: its User-Agent (at sign-in,
-- then as last seen), and when and from where it was last seen. Written at
-- most once a minute per session.
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT;
ALTER TABLE sessions ADD COLUMN last_ip TEXT NOT NULL DEFAULT '';
