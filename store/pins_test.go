package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse-dev/gatehouse/access"
)

func TestCheckPIN(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		now := time.Now()
		type attempt struct {
			pin     string
			wantErr error
		}
		tests := []struct {
			name     string
			expires  time.Time
			id       string // checked id; "" means the created one
			attempts []attempt
		}{
			{"right", now.Add(time.Minute), "", []attempt{{"123456", nil}}},
			{"unknown id", now.Add(time.Minute), "other", []attempt{{"123456", ErrPINUnknown}}},
			{"wrong then right", now.Add(time.Minute), "", []attempt{
				{"000000", ErrPINWrong}, {"123456", nil},
			}},
			{"expired", now.Add(-time.Second), "", []attempt{{"123456", ErrPINExpired}}},
			{"reused", now.Add(time.Minute), "", []attempt{{"123456", nil}, {"123456", ErrPINUnknown}}},
			{"exhausted", now.Add(time.Minute), "", []attempt{
				{"1", ErrPINWrong}, {"2", ErrPINWrong}, {"3", ErrPINWrong}, {"4", ErrPINWrong},
				{"5", ErrPINExhausted}, // the fifth wrong attempt exhausts the PIN
				{"123456", ErrPINExhausted},
				{"6", ErrPINExhausted},
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				db, _ := be.openTest(t)
				ctx := context.Background()
				if err := db.CreatePIN(ctx, "pin-id", "Dave@Example.com", "123456", tt.expires); err != nil {
					t.Fatal(err)
				}
				id := tt.id
				if id == "" {
					id = "pin-id"
				}
				for i, a := range tt.attempts {
					email, err := db.CheckPIN(ctx, id, a.pin, now)
					if a.wantErr == nil {
						if err != nil || email != "dave@example.com" {
							t.Fatalf("attempt %d: CheckPIN = %q, %v; want dave@example.com", i, email, err)
						}
						continue
					}
					wantEmail := ""
					if errors.Is(a.wantErr, ErrPINWrong) || errors.Is(a.wantErr, ErrPINExhausted) {
						wantEmail = "dave@example.com" // wrong codes count against the address
					}
					if !errors.Is(err, a.wantErr) || email != wantEmail {
						t.Fatalf("attempt %d: CheckPIN = %q, %v; want %v", i, email, err, a.wantErr)
					}
					var we *access.WrongPINError
					if errors.Is(a.wantErr, ErrPINWrong) && (!errors.As(err, &we) || we.Left != MaxPINAttempts-1-i) {
						t.Fatalf("attempt %d: CheckPIN = %v; want %d tries left", i, err, MaxPINAttempts-1-i)
					}
				}
			})
		}
	})
}

func TestPINStoredHashed(t *testing.T) {
	forEachBackend(t, func(t *testing.T, be backend) {
		db, _ := be.openTest(t)
		if err := db.CreatePIN(context.Background(), "id1", "e@example.com", "424242", time.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		var h string
		if err := db.sql.QueryRow(`SELECT pin_hash FROM pins WHERE id = 'id1'`).Scan(&h); err != nil {
			t.Fatal(err)
		}
		if h != hashPIN("id1", "424242") || len(h) != 64 {
			t.Errorf("pin_hash = %q", h)
		}
	})
}
