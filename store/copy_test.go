package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
	"github.com/gatehouse-dev/gatehouse/internal/testkit"
	"github.com/gatehouse-dev/gatehouse/token"
)

// TestCopyTablesCoverSchema: every table of both schemas is copied,
// skipped or schema_migrations, every copied table exists in both, and a
// table comes after the tables its foreign keys name.
func TestCopyTablesCoverSchema(t *testing.T) {
	lite, _ := backend{name: "sqlite"}.openTest(t)
	pg, _ := backend{name: "postgres", pg: true}.openTest(t)
	known := map[string]bool{"schema_migrations": true}
	for _, table := range copyTables {
		if known[table] {
			t.Errorf("table %s listed twice", table)
		}
		known[table] = true
	}
	for table := range copySkipped {
		if known[table] {
			t.Errorf("table %s both copied and skipped", table)
		}
		known[table] = true
	}
	for _, tc := range []struct {
		name  string
		db    *DB
		query string
	}{
		{"sqlite", lite, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`},
		{"postgres", pg, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tables := queryStrings(t, tc.db, tc.query)
			for _, table := range tables {
				if !known[table] {
					t.Errorf("table %s is neither in copyTables nor in copySkipped", table)
				}
			}
			for table := range known {
				if !slices.Contains(tables, table) {
					t.Errorf("table %s of the copy lists is not in the schema", table)
				}
			}
		})
	}
	t.Run("parents first", func(t *testing.T) {
		for i, table := range copyTables {
			for _, parent := range queryStrings(t, lite, `SELECT "table" FROM pragma_foreign_key_list(?)`, table) {
				if j := slices.Index(copyTables, parent); j < 0 || j > i {
					t.Errorf("table %s is copied before %s, which its foreign key names", table, parent)
				}
			}
		}
	})
}

func queryStrings(t *testing.T, db *DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.sql.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// filled is what fillForCopy wrote through the store's API.
type filled struct {
	live, revoked, revokedUser access.Session
	keys                       []token.Key
	aud                        string
	revocations                []access.Revocation
	svcID, svcSecret           string
	apiToken                   access.APIToken
	apiSecret                  string
	scimUser                   SCIMUser
	scimGroup                  SCIMGroup
	cert                       []byte
}

// fillForCopy writes a row of every kind into db through its API.
func fillForCopy(t *testing.T, db *DB, now time.Time) filled {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var f filled
	f.live = newSession(t, db, "LIVELIVELIVELIVE", now, 24*time.Hour)
	f.revoked = newSession(t, db, "REVOKEDREVOKED00", now, 24*time.Hour)
	must(db.TouchSession(ctx, f.live.Nonce, netip.MustParseAddr("192.0.2.7"), "Firefox", now.Add(time.Minute)))
	must(db.SaveIdPSession(ctx, f.live.Nonce, access.IdPSession{IdP: "corp", Subject: "u1", SID: "sid-1", IDToken: "tok-1"}))
	if _, err := db.UpsertUser(ctx, "dave@example.com", "corp", now); err != nil {
		t.Fatal(err)
	}
	f.revokedUser = f.live
	dave, err := db.UserByEmail(ctx, "dave@example.com")
	must(err)
	f.revokedUser.Nonce = "DAVEDAVEDAVEDAVE"
	f.revokedUser.Identity.UserID, f.revokedUser.Identity.Email = dave.ID, dave.Email
	must(db.CreateSession(ctx, f.revokedUser))
	must(db.CreateHandoff(ctx, "handoff-nonce", "app.example.com", access.Handoff{Token: "t", RedirectURL: "/x", AppSessionHash: "abcd", MaxAge: 60}, now.Add(time.Minute)))
	must(db.CreatePIN(ctx, "pin-id", "carol@example.com", "123456", now.Add(10*time.Minute)))
	for i := range 2 {
		k := testKey(t, now.Add(time.Duration(i-2)*time.Hour))
		must(db.AddSigningKey(ctx, k))
		f.keys = append(f.keys, k)
	}
	f.aud, err = db.AppAUD(ctx, "wiki", "")
	must(err)
	must(db.Audit(ctx, access.Event{Time: now, Kind: "login", Email: "carol@example.com", App: "wiki", IP: "192.0.2.7", Detail: "ok"}))
	for _, revoke := range []func() (access.Revocation, error){
		func() (access.Revocation, error) {
			return db.RevokeSession(ctx, f.revoked.Nonce, "admin@example.com", now)
		},
		func() (access.Revocation, error) { return db.RevokeUser(ctx, dave.Email, "admin@example.com", now) },
		func() (access.Revocation, error) {
			return db.RevokeApp(ctx, "wiki", f.aud, true, "admin@example.com", now)
		},
	} {
		r, err := revoke()
		must(err)
		f.revocations = append(f.revocations, r)
	}
	f.cert = []byte("-----BEGIN CERTIFICATE-----\x00\xff binary too")
	must(db.CertStorage().Store(ctx, "certificates/acme/wiki.example.com/wiki.example.com.crt", f.cert))
	must(db.CertStorage().Lock(ctx, "issue_cert_wiki.example.com"))
	must(db.UseAssertionID(ctx, "saml-assertion-1", now.Add(time.Hour), now))
	must(db.UseLogoutJTI(ctx, "corp", "jti-1", now.Add(time.Hour), now))
	f.svcID, f.svcSecret, err = db.CreateServiceToken(ctx, "ci", 0, now)
	must(err)
	f.apiToken, f.apiSecret, err = db.CreateAPIToken(ctx, "ops", []string{"read", "revoke"}, 0, "admin@example.com", now)
	must(err)
	f.scimUser, err = db.CreateSCIMUser(ctx, SCIMUser{UserName: "erin@example.com", ExternalID: "ext-e", Active: true, Attributes: []byte(`{"locale":"en"}`)}, now)
	must(err)
	gone, err := db.CreateSCIMUser(ctx, SCIMUser{UserName: "frank@example.com", Active: true}, now)
	must(err)
	_, err = db.DeleteSCIMUser(ctx, gone.ID, now)
	must(err)
	f.scimGroup, err = db.CreateSCIMGroup(ctx, SCIMGroup{DisplayName: "Engineering", Members: []SCIMMember{{ID: f.scimUser.ID}}}, now)
	must(err)
	must(db.CheckWritable(ctx))
	// A pending sign-in, and a PIN limit that has counted one send.
	if ok, err := db.PutState(ctx, "pending", "state-copy", []byte(`{"Provider":"corp"}`), now.Add(10*time.Minute), now, 100); err != nil || !ok {
		t.Fatalf("PutState = %v, %v", ok, err)
	}
	if ok, _ := db.Limit("pin-send", 5, time.Hour).Take("ann@example.com", now); !ok {
		t.Fatal("the first PIN send was refused")
	}
	return f
}

// copyTestDBs opens an SQLite and an empty PostgreSQL database.
func copyTestDBs(t *testing.T) (lite, pg *DB, pgDSN string) {
	t.Helper()
	ctx := context.Background()
	lite, err := Open(ctx, filepath.Join(t.TempDir(), "gatehouse.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	pgDSN = testkit.PostgresDSN(t)
	pg, err = OpenPostgres(ctx, pgDSN, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	return lite, pg, pgDSN
}

func TestCopy(t *testing.T) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	lite, pg, dsn := copyTestDBs(t)
	f := fillForCopy(t, lite, now)

	rep, err := Copy(ctx, lite, pg)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	wantVersion, _ := lite.SchemaVersion(ctx)
	if rep.SchemaVersion != wantVersion || len(rep.Tables) != len(copyTables) {
		t.Errorf("report = %+v, want version %d and %d tables", rep, wantVersion, len(copyTables))
	}
	for _, tr := range rep.Tables {
		if tr.Rows == 0 {
			t.Errorf("table %s: no rows copied; the test fills every table", tr.Table)
		}
	}
	if skipped := fmt.Sprint(rep.Skipped); !strings.Contains(skipped, "heartbeat") || !strings.Contains(skipped, "certmagic_locks") {
		t.Errorf("skipped = %s, want heartbeat and certmagic_locks", skipped)
	}

	t.Run("every row equal", func(t *testing.T) {
		for _, table := range copyTables {
			a, b := tableDump(t, lite, table), tableDump(t, pg, table)
			if !slices.Equal(a, b) {
				t.Errorf("table %s:\n sqlite   %q\n postgres %q", table, a, b)
			}
		}
		for table := range copySkipped {
			if n := len(tableDump(t, pg, table)); n != 0 {
				t.Errorf("skipped table %s has %d rows in the target", table, n)
			}
		}
	})

	// Another node opening the copy, as a serve started on PostgreSQL.
	pg2, err := OpenPostgres(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pg2.Close()
	tests := []struct {
		name  string
		check func(t *testing.T, db *DB)
	}{
		{"sessions, the revoked one still revoked", func(t *testing.T, db *DB) {
			live, err := db.Session(ctx, f.live.Nonce)
			if err != nil || !live.Active(now) || live.Identity.Email != "carol@example.com" || live.UserAgent != "Firefox" {
				t.Errorf("live session = %+v, %v", live, err)
			}
			for _, nonce := range []string{f.revoked.Nonce, f.revokedUser.Nonce} {
				s, err := db.Session(ctx, nonce)
				if err != nil || s.Active(now) || !s.RevokedAt.Equal(now) {
					t.Errorf("revoked session %s = %+v, %v", nonce, s, err)
				}
			}
			nonces, apps, last := loaded(t, db, now)
			if !nonces[f.revoked.Nonce] || !nonces[f.revokedUser.Nonce] || nonces[f.live.Nonce] {
				t.Errorf("revoked nonces loaded = %v", nonces)
			}
			if _, ok := apps[f.aud]; !ok || last != f.revocations[2].ID {
				t.Errorf("app revocations %v, last ID %d; want %s and %d", apps, last, f.aud, f.revocations[2].ID)
			}
			if s, err := db.IdPSession(ctx, f.live.Nonce); err != nil || s.SID != "sid-1" || s.IDToken != "tok-1" {
				t.Errorf("IdP session = %+v, %v", s, err)
			}
		}},
		{"revocation log with its IDs", func(t *testing.T, db *DB) {
			got, err := db.RevocationsSince(ctx, 0)
			if err != nil || len(got) != len(f.revocations) {
				t.Fatalf("RevocationsSince = %+v, %v", got, err)
			}
			for i, r := range got {
				if want := f.revocations[i]; r.ID != want.ID || r.Kind != want.Kind || r.Subject != want.Subject || !r.At.Equal(want.At) || r.By != want.By {
					t.Errorf("revocation %d = %+v, want %+v", i, r, want)
				}
			}
		}},
		{"a key signs on SQLite, verifies on PostgreSQL", func(t *testing.T, db *DB) {
			keys, err := db.SigningKeys(ctx)
			if err != nil || len(keys) != len(f.keys) {
				t.Fatalf("keys = %d, %v", len(keys), err)
			}
			liteKeys, err := lite.SigningKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			before, err := token.NewKeyring("https://team.example.com", liteKeys)
			if err != nil {
				t.Fatal(err)
			}
			after, err := token.NewKeyring("https://team.example.com", keys)
			if err != nil {
				t.Fatal(err)
			}
			raw, err := before.Sign(token.OrgClaims(f.live, "team-aud", now))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := after.Verify(raw, "team-aud", token.TypeOrg, now); err != nil || after.CurrentKeyID() != before.CurrentKeyID() ||
				!keys[0].Private.Equal(liteKeys[0].Private) {
				t.Errorf("verify on the copy: %v (signing key %s, was %s)", err, after.CurrentKeyID(), before.CurrentKeyID())
			}
		}},
		{"app AUD", func(t *testing.T, db *DB) {
			if aud, err := db.AppAUD(ctx, "wiki", ""); err != nil || aud != f.aud {
				t.Errorf("AUD = %q, %v; want %q", aud, err, f.aud)
			}
		}},
		{"service and API tokens", func(t *testing.T, db *DB) {
			if name, ok := db.CheckServiceToken(f.svcID, f.svcSecret, now); !ok || name != "ci" {
				t.Errorf("service token = %q, %v", name, ok)
			}
			tok, err := db.APITokenByHash(ctx, sha256.Sum256([]byte(f.apiSecret)))
			if err != nil || tok.ID != f.apiToken.ID || !slices.Equal(tok.Scopes, []string{"read", "revoke"}) {
				t.Errorf("API token = %+v, %v", tok, err)
			}
		}},
		{"certificates", func(t *testing.T, db *DB) {
			if got, err := db.CertStorage().Load(ctx, "certificates/acme/wiki.example.com/wiki.example.com.crt"); err != nil || string(got) != string(f.cert) {
				t.Errorf("certificate = %q, %v", got, err)
			}
			if ok, err := db.CertStorage().TryLock(ctx, "issue_cert_wiki.example.com"); err != nil || !ok {
				t.Errorf("the SQLite serve's certmagic lock came along: TryLock = %v, %v", ok, err)
			}
		}},
		{"use-once rows stay used", func(t *testing.T, db *DB) {
			if err := db.UseAssertionID(ctx, "saml-assertion-1", now.Add(time.Hour), now); !errors.Is(err, ErrAssertionReplayed) {
				t.Errorf("replayed assertion: %v", err)
			}
			if err := db.UseLogoutJTI(ctx, "corp", "jti-1", now.Add(time.Hour), now); !errors.Is(err, ErrLogoutReplayed) {
				t.Errorf("replayed logout token: %v", err)
			}
			if email, err := db.CheckPIN(ctx, "pin-id", "123456", now); err != nil || email != "carol@example.com" {
				t.Errorf("pending PIN = %q, %v", email, err)
			}
			if h, err := db.ConsumeHandoff(ctx, "handoff-nonce", "app.example.com", "abcd", now); err != nil || h.RedirectURL != "/x" {
				t.Errorf("pending hand-off = %+v, %v", h, err)
			}
		}},
		{"SCIM", func(t *testing.T, db *DB) {
			g, err := db.SCIMGroup(ctx, f.scimGroup.ID)
			if err != nil || len(g.Members) != 1 || g.Members[0].UserName != "erin@example.com" {
				t.Errorf("SCIM group = %+v, %v", g, err)
			}
			if d, err := db.SCIMDirectoryOf(ctx, "frank@example.com"); err != nil || !d.Known || d.Active {
				t.Errorf("deleted SCIM user = %+v, %v; want known and inactive", d, err)
			}
		}},
		{"audit", func(t *testing.T, db *DB) {
			events, _, err := db.AuditSearch(ctx, AuditFilter{})
			if err != nil || !slices.ContainsFunc(events, func(e access.Event) bool { return e.Kind == "login" && e.Detail == "ok" }) {
				t.Errorf("audit = %+v, %v", events, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, pg2) })
	}

	t.Run("IDs continue above the copied ones", func(t *testing.T) {
		s := newSession(t, pg2, "AFTERAFTERAFTER0", now, time.Hour)
		r, err := pg2.RevokeSession(ctx, s.Nonce, "", now)
		if err != nil {
			t.Fatal(err)
		}
		if r.ID <= f.revocations[len(f.revocations)-1].ID {
			t.Errorf("new revocation ID %d, want above %d", r.ID, f.revocations[len(f.revocations)-1].ID)
		}
		if err := pg2.Audit(ctx, access.Event{Time: now, Kind: "logout"}); err != nil {
			t.Fatalf("audit after the copy: %v", err)
		}
		events, _, err := pg2.AuditSearch(ctx, AuditFilter{})
		if err != nil || len(events) < 2 || events[0].Kind != "logout" || events[0].ID <= events[1].ID {
			t.Errorf("audit after the copy = %+v, %v", events, err)
		}
	})
}

// tableDump is every row of table, each as text, sorted: the same on both
// backends for the same rows.
func tableDump(t *testing.T, db *DB, table string) []string {
	t.Helper()
	rows, err := db.sql.QueryContext(context.Background(), `SELECT * FROM `+table)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts[i] = fmt.Sprintf("%s=%v", cols[i], v)
		}
		slices.Sort(parts)
		out = append(out, strings.Join(parts, " "))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestCopyRefuses(t *testing.T) {
	ctx := context.Background()
	now := time.Now().Truncate(time.Millisecond)
	tests := []struct {
		name    string
		prepare func(t *testing.T, lite, pg *DB)
		want    string
		is      error
	}{
		{"a target with rows", func(t *testing.T, lite, pg *DB) {
			if _, err := pg.AppAUD(ctx, "wiki", ""); err != nil {
				t.Fatal(err)
			}
		}, "table apps has rows", ErrTargetNotEmpty},
		{"another schema version", func(t *testing.T, lite, pg *DB) {
			if _, err := pg.sql.ExecContext(ctx, `DELETE FROM schema_migrations WHERE version = (SELECT MAX(version) FROM schema_migrations)`); err != nil {
				t.Fatal(err)
			}
		}, "different schema versions", nil},
		{"the wrong way round", nil, "copies an SQLite database into a PostgreSQL one", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lite, pg, _ := copyTestDBs(t)
			f := fillForCopy(t, lite, now)
			from, to := lite, pg
			if tt.prepare != nil {
				tt.prepare(t, lite, pg)
			} else {
				from, to = pg, lite
			}
			_, err := Copy(ctx, from, to)
			if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.is != nil && !errors.Is(err, tt.is)) {
				t.Fatalf("Copy = %v, want an error with %q", err, tt.want)
			}
			if _, err := pg.Session(ctx, f.live.Nonce); !errors.Is(err, ErrNotFound) {
				t.Errorf("a refused copy wrote the target: Session = %v", err)
			}
		})
	}
}

// TestCopyBatches: a table of more rows than one INSERT carries arrives
// whole.
func TestCopyBatches(t *testing.T) {
	ctx := context.Background()
	lite, pg, _ := copyTestDBs(t)
	now := time.Now().Truncate(time.Millisecond)
	n := copyBatchRows*2 + 7
	err := lite.withTx(ctx, func(tx conn) error {
		for i := range n {
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit (at, kind, detail) VALUES (?, 'login', ?)`, now.UnixMilli(), fmt.Sprint(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The newest events are deleted: SQLite never hands their IDs out
	// again, nor must PostgreSQL.
	if _, err := lite.sql.ExecContext(ctx, `DELETE FROM audit WHERE id > ?`, n-5); err != nil {
		t.Fatal(err)
	}
	rep, err := Copy(ctx, lite, pg)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(rep.Tables, func(tr TableRows) bool { return tr.Table == "audit" })
	if i < 0 || rep.Tables[i].Rows != int64(n-5) {
		t.Errorf("audit rows copied = %+v, want %d", rep.Tables, n-5)
	}
	if got, want := tableDump(t, pg, "audit"), tableDump(t, lite, "audit"); !slices.Equal(got, want) {
		t.Errorf("audit differs after a batched copy: %d rows, want %d", len(got), len(want))
	}
	if err := pg.Audit(ctx, access.Event{Time: now, Kind: "logout"}); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := pg.sql.QueryRowContext(ctx, `SELECT id FROM audit WHERE kind = 'logout'`).Scan(&id); err != nil || id != int64(n+1) {
		t.Errorf("next audit ID = %d, %v; want %d (past SQLite's AUTOINCREMENT)", id, err, n+1)
	}
}
