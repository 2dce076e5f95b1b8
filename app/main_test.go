package app

import (
	"os"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// TestMain runs the app's tests with a throwaway PostgreSQL cluster, started
// by the first test that asks testkit.PostgresDSN for a database.
func TestMain(m *testing.M) { os.Exit(testkit.RunWithPostgres(m)) }
