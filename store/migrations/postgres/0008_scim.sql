-- SCIM 2.0 provisioning (RFC 7643/7644): the users and groups an identity
-- provider (Okta, Entra ID) pushes. Times are BIGINT Unix milliseconds.

CREATE TABLE scim_users (
	id           TEXT PRIMARY KEY,                     -- UUID assigned by Gatehouse
	user_name    TEXT NOT NULL,                        -- the email the user signs in with; unique without ASCII case
	external_id  TEXT NOT NULL DEFAULT '',
	display_name TEXT NOT NULL DEFAULT '',
	active       BIGINT NOT NULL DEFAULT 1,
	attributes   TEXT NOT NULL DEFAULT '{}',           -- the other attributes (name, emails, ...) as JSON
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX scim_users_user_name ON scim_users (lower(user_name));
CREATE INDEX scim_users_external_id ON scim_users(external_id);

CREATE TABLE scim_groups (
	id           TEXT PRIMARY KEY,                     -- UUID assigned by Gatehouse
	display_name TEXT NOT NULL,                        -- what a policy's groups selector names; compared without ASCII case
	external_id  TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX scim_groups_display_name ON scim_groups (lower(display_name));
CREATE INDEX scim_groups_external_id ON scim_groups(external_id);

CREATE TABLE scim_members (
	group_id TEXT NOT NULL REFERENCES scim_groups(id) ON DELETE CASCADE,
	user_id  TEXT NOT NULL REFERENCES scim_users(id) ON DELETE CASCADE,
	PRIMARY KEY (group_id, user_id)
);
CREATE INDEX scim_members_user_id ON scim_members(user_id);

-- The userNames of deleted SCIM users: their sign-in stays refused (as for
-- a deactivated user) until a SCIM client provisions the userName again.
CREATE TABLE scim_deleted (
	user_name  TEXT PRIMARY KEY,                          -- lower-cased
	deleted_at BIGINT NOT NULL
);
