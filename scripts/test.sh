#!/usr/bin/env bash
# Runs Gatehouse's whole test suite: installs the test dependencies, checks
# formatting and vet, runs every test (unit and end-to-end, including real
# Chromium), and runs each benchmark once so they keep compiling and working.
# Screenshots and other artifacts land in ./artifacts (GATEHOUSE_ARTIFACTS).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

export GATEHOUSE_ARTIFACTS="${GATEHOUSE_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$GATEHOUSE_ARTIFACTS"

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "not gofmt-formatted:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== go test"
go test -count=1 -timeout 20m ./...

echo "== benchmarks (one iteration each, not timed)"
go test -count=1 -run '^$' -bench . -benchtime 1x ./...

echo "test.sh: all passed"
