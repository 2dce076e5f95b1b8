#!/usr/bin/env bash
# Self-test of scripts/check-imports.sh: a graph that keeps DESIGN.md's import
# rules passes, and each planted violation fails with its own message.
set -euo pipefail
cd "$(dirname "$0")/.."

M=github.com/gatehouse-dev/gatehouse
export MODULE=$M
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The layout of DESIGN.md, every package importing all it may.
good() {
	cat <<EOF
$M $M/app
$M/access errors time
$M/token $M/access crypto
$M/store $M/access modernc.org/sqlite
$M/config $M/access github.com/pelletier/go-toml/v2
$M/idp $M/access
$M/web $M/access
$M/pages $M/access
$M/pages/templates $M/pages $M/access
$M/certs $M/access github.com/caddyserver/certmagic
$M/limit golang.org/x/time/rate
$M/revocation $M/access
$M/login $M/access $M/token $M/web $M/pages
$M/proxy $M/access $M/token $M/web $M/pages
$M/admin $M/access $M/token $M/web $M/pages
$M/ops $M/access $M/token $M/web
$M/app $M/access $M/token $M/store $M/config $M/idp $M/web $M/pages $M/certs $M/revocation $M/login $M/proxy $M/admin $M/ops $M/limit
$M/internal/testkit testing
$M/internal/testidp $M/internal/testkit $M/access $M/store
EOF
}

failed=0
# expect NAME pass|fail PATTERN: run the check on $tmp/in; it must pass, or
# fail with a message matching PATTERN.
expect() {
	local name=$1 want=$2 pattern=${3:-}
	local out rc=0
	out=$(bash scripts/check-imports.sh "$tmp/in" 2>&1) || rc=$?
	if [[ $want == pass && $rc != 0 ]]; then
		echo "check-imports_test: $name: failed, want pass:"; echo "$out"; failed=1
	elif [[ $want == fail && $rc == 0 ]]; then
		echo "check-imports_test: $name: passed, want a failure matching '$pattern':"; echo "$out"; failed=1
	elif [[ $want == fail ]] && ! grep -q -e "$pattern" <<<"$out"; then
		echo "check-imports_test: $name: failed without '$pattern':"; echo "$out"; failed=1
	else
		echo "check-imports_test: ok   $name"
	fi
}

# plant NAME PATTERN LINE...: the good graph plus LINEs must fail with PATTERN.
plant() {
	local name=$1 pattern=$2
	shift 2
	{ good; printf '%s\n' "$@"; } >"$tmp/in"
	expect "$name" fail "$pattern"
}

good >"$tmp/in"
expect "the DESIGN.md layout" pass

plant "access imports token" "access imports token; its rule allows nothing" "$M/access $M/token"
plant "login imports idp" "login imports idp; its rule allows access token web pages" "$M/login $M/access $M/idp"
plant "proxy imports store" "proxy imports store" "$M/proxy $M/store"
plant "admin imports store" "admin imports store" "$M/admin $M/access $M/store"
plant "idp imports token" "idp imports token; its rule allows access" "$M/idp $M/token"
plant "revocation imports store" "revocation imports store" "$M/revocation $M/access $M/store"
plant "limit imports store" "limit imports store" "$M/limit $M/store"
plant "ops imports pages" "ops imports pages" "$M/ops $M/pages"
plant "pages subpackage imports store" "pages/templates imports store" "$M/pages/templates $M/store"
plant "store imports app" "store imports app: nothing imports app" "$M/store $M/app"
plant "internal helper imports app" "internal/testkit imports app: nothing imports app" "$M/internal/testkit $M/app"
plant "product imports internal" "proxy imports internal/testkit: internal/... holds test helpers" \
	"$M/proxy $M/internal/testkit"
plant "unknown package" "newthing has no import rule.*add one to scripts/check-imports.sh" "$M/newthing $M/access"
plant "package outside the module" "example.com/other is not in module" "example.com/other $M/access"

if [[ $failed != 0 ]]; then
	echo "check-imports_test: FAILED" >&2
	exit 1
fi
echo "check-imports_test: ok"
