#!/usr/bin/env bash
# Checks that every external program Gatehouse's tests run is installed, and
# names the Debian package of each one that is missing. scripts/test.sh runs
# it right after scripts/install-test-deps.sh, so that a missing program
# fails in one clear line instead of deep inside an end-to-end test.
set -euo pipefail
cd "$(dirname "$0")/.."

# The Debian package of every external program the tests run (keep in step
# with internal/testkit's table).
declare -A debian=(
  [chromium]=chromium
  [pebble]=pebble
  [pebble-challtestsrv]=pebble
  [php]=php-cli
  [node]=nodejs
  [npm]=npm
  [certutil]=libnss3-tools
  [nginx]=nginx
  [caddy]=caddy
  [haproxy]=haproxy
  [go]="a Go toolchain at go.mod's go version"
  [bash]=bash
  [git]=git
  [sha256sum]=coreutils
  [runuser]=util-linux
)
# Every program the tests name literally (exec.Command, exec.LookPath,
# testkit.NeedPrograms or testkit.Program) must be in the table above, so
# that none is missed.
test_files=$(find . \( -path ./scripts -o -name node_modules -o -name .git \) -prune -o \
  \( -name '*_test.go' -o -path './internal/*.go' \) -print)
used=$(cat $test_files | grep -oE 'exec\.(Command|LookPath)\("[^"]+"|(NeedPrograms|Program)\(t, "[^)]*\)' |
  grep -oE '"[^"]+"' | tr -d '"' | sort -u)
missing=()
for prog in $used; do
  if [[ ! -v debian[$prog] ]]; then
    echo "check-test-programs: the tests run '$prog', whose Debian package is not known here:" \
      "add it to the table in scripts/check-test-programs.sh (and in internal/testkit)" >&2
    exit 1
  fi
done
# Like testkit.Program: in PATH, or in /usr/sbin or /sbin (Debian's nginx).
for prog in "${!debian[@]}"; do
  command -v "$prog" >/dev/null 2>&1 || [[ -x /usr/sbin/$prog || -x /sbin/$prog ]] ||
    missing+=("$prog (Debian package: ${debian[$prog]})")
done
[[ -d /usr/share/simplesamlphp/www ]] || missing+=("SimpleSAMLphp (Debian package: simplesamlphp)")
php_modules=$(php -m 2>/dev/null || true)
for ext in xml mbstring curl; do
  grep -qix "$ext" <<<"$php_modules" || missing+=("PHP extension $ext (Debian package: php-$ext)")
done
# PostgreSQL's server programs (internal/testkit/postgres.go runs initdb,
# postgres and pg_ctl of the newest /usr/lib/postgresql/*/bin, else of PATH).
for prog in initdb postgres pg_ctl; do
  compgen -G "/usr/lib/postgresql/*/bin/$prog" >/dev/null || command -v "$prog" >/dev/null 2>&1 ||
    missing+=("PostgreSQL's $prog (Debian package: postgresql)")
done
id postgres >/dev/null 2>&1 || [ "$(id -u)" -ne 0 ] ||
  missing+=("the postgres OS user, to run PostgreSQL's tests as root (Debian package: postgresql)")
[[ -d scripts/e2e/oidc/node_modules/oidc-provider ]] ||
  missing+=("the test OpenID provider's npm modules (run npm ci in scripts/e2e/oidc)")
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "check-test-programs: missing (scripts/install-test-deps.sh installs them all):" >&2
  printf '  %s\n' "${missing[@]}" >&2
  exit 1
fi
echo "check-test-programs: all present: $(printf '%s\n' "${!debian[@]}" | sort | tr '\n' ' ')simplesamlphp postgresql"
