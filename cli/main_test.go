package cli

import (
	"os"
	"testing"

	"github.com/gatehouse-dev/gatehouse/internal/testkit"
)

// TestMain runs the tests with a throwaway PostgreSQL cluster available
// (started on first use, stopped at the end).
func TestMain(m *testing.M) { os.Exit(testkit.RunWithPostgres(m)) }
