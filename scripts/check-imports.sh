#!/usr/bin/env bash
# Checks the import rules of DESIGN.md ("Layout") on the production imports
# of every package in the module (test files are not counted):
#
#   package                     may import (in the module)
#   access                      nothing
#   token store config idp      access
#   web pages certs limit
#   revocation                  access
#   cluster                     access (node registry, acknowledged
#                               revokes, fail-closed; not yet in DESIGN.md)
#   login proxy admin           access token web pages
#   ops                         access token web
#   cli                         access admin cluster config ops store token (the
#                               command line, less `serve`; not yet in
#                               DESIGN.md)
#   scim                        access web
#   geoip                       access web
#   app                         everything (it is the composition root)
#   . (the main package)        app
#   internal/...                anything (test helpers) except app
#
# and, for every package: nothing imports app except the main package, and no
# package outside internal/ imports internal/... (test helpers only). A
# subpackage (say pages/templates) falls under the rule of its top directory
# and may import its siblings. A package without a rule fails the check until
# one is added here (and to DESIGN.md).
#
# Usage: scripts/check-imports.sh [FILE]
#   Without FILE it checks `go list ./...` of this repository; with FILE ("-"
#   for stdin) it checks lines "importpath import import ..." instead, as
#   `go list -f '{{.ImportPath}} {{join .Imports " "}}'` prints them
#   (scripts/check-imports_test.sh feeds it planted violations that way).
#   MODULE overrides the module path (default: the one in go.mod).
set -euo pipefail
cd "$(dirname "$0")/.."

MODULE=${MODULE:-$(awk '$1 == "module" { print $2; exit }' go.mod)}

# allowed[top] = the top directories top may import; "*" = any.
declare -A allowed=(
	[access]=""
	[token]="access" [store]="access" [config]="access" [idp]="access"
	[web]="access" [pages]="access" [certs]="access"
	[limit]="access" # the rate limiter: a leaf like web (not yet in DESIGN.md)
	[geoip]="access web" # the country of a request: header or MaxMind database (not yet in DESIGN.md)
	[revocation]="access"
	[cluster]="access" # nodes on one store: heartbeats, acknowledged revokes, fail-closed (not yet in DESIGN.md)
	[login]="access token web pages" [proxy]="access token web pages" [admin]="access token web pages"
	[ops]="access token web"
	[cli]="access admin cluster config ops store token" # the command line (not yet in DESIGN.md)
	[scim]="access web" # the SCIM 2.0 service provider (not yet in DESIGN.md)
	[app]="*"
	[.]="app"
	[internal]="*"
)

# top PATH: the rule key of a module-relative package path ("." for the root).
top() {
	case $1 in
	"") echo . ;;
	*) echo "${1%%/*}" ;;
	esac
}

if [[ $# -gt 0 ]]; then
	input=$(cat -- "$1")
else
	input=$(go list -f '{{.ImportPath}} {{join .Imports " "}}' ./...)
fi

fail=0
report() {
	echo "check-imports: $*" >&2
	fail=1
}

while read -r pkg imports; do
	[[ -n $pkg ]] || continue
	case $pkg in
	"$MODULE") rel="" ;;
	"$MODULE"/*) rel=${pkg#"$MODULE"/} ;;
	*) report "$pkg is not in module $MODULE"; continue ;;
	esac
	name=${rel:-.}
	key=$(top "$rel")
	# The module-relative imports of pkg.
	mine=()
	for imp in $imports; do
		case $imp in
		"$MODULE") mine+=(.) ;;
		"$MODULE"/*) mine+=("${imp#"$MODULE"/}") ;;
		esac
	done
	if [[ ! -v allowed[$key] ]]; then
		report "$name has no import rule (it imports: ${mine[*]:-nothing in the module});" \
			"add one to scripts/check-imports.sh and to DESIGN.md's Layout"
		continue
	fi
	rule=${allowed[$key]}
	bad=()
	for imp in "${mine[@]}"; do
		ikey=$(top "${imp#.}")
		[[ $imp == . ]] && ikey=.
		if [[ $ikey == app && $key != . ]]; then
			report "$name imports $imp: nothing imports app except the main package"
			continue
		fi
		if [[ $ikey == . ]]; then
			report "$name imports the main package"
			continue
		fi
		if [[ $ikey == internal && $key != internal ]]; then
			report "$name imports $imp: internal/... holds test helpers, which no product package may import"
			continue
		fi
		[[ $ikey == "$key" || $rule == "*" || " $rule " == *" $ikey "* ]] && continue
		bad+=("$imp")
	done
	if [[ ${#bad[@]} -gt 0 ]]; then
		report "$name imports ${bad[*]}; its rule allows ${rule:-nothing in the module}"
	fi
	printf 'check-imports: %-24s -> %s\n' "$name" "${mine[*]:--}"
done <<<"$input"

if [[ $fail != 0 ]]; then
	echo "check-imports: FAILED: the import rules of DESIGN.md (Layout) are broken" >&2
	exit 1
fi
echo "check-imports: ok"
