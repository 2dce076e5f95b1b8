#!/usr/bin/env bash
# Runs Gatehouse's whole test suite: installs the test dependencies and checks
# that every program the tests run is there, checks formatting, vet, go.mod
# tidiness and the import rules of DESIGN.md, runs every test (unit and
# end-to-end, including real Chromium; no -short, so nothing is skipped), and
# runs each benchmark once so they keep compiling and working.
# Screenshots and other artifacts land in ./artifacts (GATEHOUSE_ARTIFACTS).
#
# The fast lane, without Chromium, pebble, PHP or npm: go test -short ./...
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-test-deps.sh

export GATEHOUSE_ARTIFACTS="${GATEHOUSE_ARTIFACTS:-$PWD/artifacts}"
mkdir -p "$GATEHOUSE_ARTIFACTS"

echo "== test programs"
bash scripts/check-test-programs.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path '*/node_modules/*'))
if [ -n "$unformatted" ]; then
  echo "not gofmt-formatted:"; echo "$unformatted"; exit 1
fi

echo "== go mod tidy"
for mod in . scripts/bench/benchtool; do
  if ! (cd "$mod" && go mod tidy -diff); then
    echo "test.sh: go.mod/go.sum of $mod are not tidy (diff above): run 'go mod tidy' in $mod" >&2
    exit 1
  fi
done

echo "== go vet"
go vet ./...
(cd scripts/bench/benchtool && go vet ./...)

echo "== import rules (DESIGN.md, Layout)"
if ! out=$(bash scripts/check-imports_test.sh 2>&1); then
  echo "$out"; echo "test.sh: the self-test of scripts/check-imports.sh failed" >&2; exit 1
fi
bash scripts/check-imports.sh

echo "== go test"
go test -count=1 -timeout 20m ./...

echo "== benchmarks (one iteration each, not timed)"
go test -count=1 -run '^$' -bench . -benchtime 1x ./...

echo "test.sh: all passed"
