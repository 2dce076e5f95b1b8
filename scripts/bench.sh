#!/usr/bin/env bash
# Benchmark of Gatehouse's authorize path against a bare Go reverse proxy.
#
# Builds Gatehouse and scripts/bench/benchtool, starts on 127.0.0.1 an origin
# (200, 1 KiB body), a bare httputil.ReverseProxy in front of it and
# Gatehouse in front of it with one app, mints an app token from the store,
# and runs wrk against the three in turn (origin, bare proxy, Gatehouse),
# RUNS times each. Table 1 uses a fresh database; table 2 the same with
# 1,000,000 sessions and 1,000,000 revoked sessions, plus Gatehouse's RSS
# after load and its start-up time (process start to the first 200 on the
# team domain's /cdn-cgi/access/certs).
#
# Environment:
#   RUNS=3          wrk runs per target and table
#   DURATION=10     seconds per wrk run (QUICK=1: 3)
#   QUICK=1         smoke test: 3 s runs
#   SKIP_MILLION=1  skip table 2
#   THREADS=2 CONNS=50
#   SRC=DIR         source tree to build (default: this repository)
#   KEEP=1          keep the temporary directory (logs, configs, databases)
#
# Every process started here is stopped by PID on exit; traffic stays on
# loopback; nothing outside the temporary directory is written.
set -euo pipefail

RUNS=${RUNS:-3}
if [[ ${QUICK:-0} == 1 ]]; then DURATION=${DURATION:-3}; else DURATION=${DURATION:-10}; fi
THREADS=${THREADS:-2}
CONNS=${CONNS:-50}
SKIP_MILLION=${SKIP_MILLION:-0}
MILLION=${MILLION:-1000000}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=${SRC:-$ROOT}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
PIDS=()

die() { echo "bench: $*" >&2; exit 1; }

alive() { # alive PID: running and not yet a zombie
	local state
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ $state != Z ]]
}

stop_pid() { # stop one process we started, by PID: TERM, then KILL after 15 s
	local pid=$1 deadline=$((SECONDS + 15))
	if alive "$pid"; then
		kill "$pid" 2>/dev/null || true
		while alive "$pid" && ((SECONDS < deadline)); do sleep 0.1; done
		if alive "$pid"; then
			echo "bench: PID $pid ignored SIGTERM for 15 s; sending SIGKILL" >&2
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
	if [[ ${KEEP:-0} == 1 ]]; then echo "bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v wrk >/dev/null; then
	echo "bench: installing wrk" >&2
	if [[ $(id -u) == 0 ]]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi
command -v curl >/dev/null || die "curl is required"

echo "bench: building in $SRC" >&2
# benchtool is a module of its own (scripts/bench/benchtool/go.mod).
(cd "$SRC" && go build -o "$WORK/gatehouse" . && go build -C scripts/bench/benchtool -o "$WORK/benchtool" .) ||
	die "build failed"
BT=$WORK/benchtool

read -r P_ORIGIN P_BARE P_GATE <<<"$("$BT" ports -n 3 | tr '\n' ' ')"
APP_HOST="bench.bench.test:$P_GATE"
TEAM_HOST="auth.bench.test:$P_GATE"

# wait_200 URL HOST TIMEOUT_S: poll until URL answers 200 with Host HOST.
wait_200() {
	local url=$1 host=$2 deadline=$((SECONDS + $3))
	until [[ $(curl -s -o /dev/null -w '%{http_code}' -H "Host: $host" "$url" || true) == 200 ]]; do
		((SECONDS < deadline)) || return 1
		sleep 0.01
	done
}

"$BT" origin -addr "127.0.0.1:$P_ORIGIN" 2>"$WORK/origin.log" &
PIDS+=($!)
"$BT" bareproxy -addr "127.0.0.1:$P_BARE" -to "http://127.0.0.1:$P_ORIGIN" 2>"$WORK/bare.log" &
PIDS+=($!)
wait_200 "http://127.0.0.1:$P_ORIGIN/" "127.0.0.1:$P_ORIGIN" 10 || die "origin did not start"
wait_200 "http://127.0.0.1:$P_BARE/" "127.0.0.1:$P_BARE" 10 || die "bare proxy did not start"

# write_config DIR: a Gatehouse config for the bench app in DIR/bench.toml.
write_config() {
	cat >"$1/bench.toml" <<EOF
team_domain = "$TEAM_HOST"
listen = "127.0.0.1:$P_GATE"
data_dir = "$1/data"

[tls]
mode = "off"

[log]
level = "warn"
access_log = false

[[idps]]
id = "pin"
kind = "otp"

[[apps]]
name = "bench"
domains = ["$APP_HOST"]
origin = "http://127.0.0.1:$P_ORIGIN"

  [[apps.policies]]
  name = "everyone"
  decision = "allow"
  include = [{ everyone = true }]
EOF
}

# to_ms VALUE: a wrk latency ("850.00us", "1.20ms", "1.01s") in milliseconds.
to_ms() {
	awk -v v="$1" 'BEGIN {
		if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
		else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
		else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
		else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.3f", v * 1000 }
		else { printf "nan" } }'
}

# median: the median of the numbers on stdin.
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# run_wrk NAME URL HOST OUT: one wrk run; appends "rps p50 p99" to OUT.
run_wrk() {
	local name=$1 url=$2 host=$3 out=$4 log
	log=$WORK/wrk-$name-$(date +%s%N).txt
	wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency \
		-H "Host: $host" -H "Cookie: CF_Authorization=$TOKEN" "$url" >"$log" 2>&1 ||
		die "wrk against $name failed: $(cat "$log")"
	if grep -q -e 'Non-2xx or 3xx' -e 'Socket errors' "$log"; then
		die "wrk against $name saw errors or non-2xx answers: $(cat "$log")"
	fi
	local rps p50 p99
	rps=$(awk '/^Requests\/sec:/ { print $2 }' "$log")
	p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$log")")
	p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$log")")
	[[ -n $rps && -n $p50 && -n $p99 ]] || die "cannot parse wrk output: $(cat "$log")"
	echo "$rps $p50 $p99" >>"$out"
	printf 'bench:   %-9s %10.0f req/s  p50 %7.3f ms  p99 %7.3f ms\n' "$name" "$rps" "$p50" "$p99" >&2
}

# col FILE N: the median of column N of FILE.
col() { awk -v n="$2" '{ print $n }' "$1" | median; }

# ratio A B: A/B to two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

# verdict VALUE OP LIMIT: "ok" or "MISSED".
verdict() { awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == ">=") ? v >= l : v <= l; print ok ? "ok" : "MISSED" }'; }

# scenario TITLE SEED: one table; SEED is the number of sessions and of
# revoked sessions to store first (0: none).
scenario() {
	local title=$1 seedn=$2 dir
	dir=$WORK/$([[ $seedn == 0 ]] && echo fresh || echo seeded)
	mkdir -p "$dir"
	write_config "$dir"
	if [[ $seedn != 0 ]]; then
		echo "bench: seeding $seedn sessions and $seedn revoked sessions" >&2
		"$BT" seed -config "$dir/bench.toml" -sessions "$seedn" -revoked "$seedn" 2>"$dir/seed.log" >&2 ||
			die "seed failed: $(cat "$dir/seed.log")"
	fi
	TOKEN=$("$BT" mint -config "$dir/bench.toml" -email bench@bench.test -app bench 2>"$dir/mint.log") ||
		die "mint failed: $(cat "$dir/mint.log")"

	local t0 t1 gpid startup_ms
	t0=$(date +%s%N)
	if [[ -n ${BENCH_CPUPROFILE:-} && $seedn == 0 ]]; then
		"$BT" serve -config "$dir/bench.toml" -cpuprofile "$BENCH_CPUPROFILE" 2>"$dir/gatehouse.log" &
	else
		"$WORK/gatehouse" serve -config "$dir/bench.toml" 2>"$dir/gatehouse.log" &
	fi
	gpid=$!
	PIDS+=("$gpid")
	wait_200 "http://127.0.0.1:$P_GATE/cdn-cgi/access/certs" "$TEAM_HOST" 120 ||
		die "Gatehouse did not start: $(cat "$dir/gatehouse.log")"
	t1=$(date +%s%N)
	startup_ms=$(((t1 - t0) / 1000000))

	local code
	code=$(curl -s -o "$dir/check.body" -w '%{http_code}' -H "Host: $APP_HOST" \
		-H "Cookie: CF_Authorization=$TOKEN" "http://127.0.0.1:$P_GATE/") || true
	[[ $code == 200 ]] || die "Gatehouse answered $code, not 200, with the minted token: $(cat "$dir/gatehouse.log")"
	cmp -s "$dir/check.body" <(curl -s "http://127.0.0.1:$P_ORIGIN/") || die "Gatehouse did not return the origin's body"

	echo "bench: $title: $RUNS runs of ${DURATION}s, -t$THREADS -c$CONNS" >&2
	local r
	for ((r = 1; r <= RUNS; r++)); do
		run_wrk origin "http://127.0.0.1:$P_ORIGIN/" "127.0.0.1:$P_ORIGIN" "$dir/origin.res"
		run_wrk bare "http://127.0.0.1:$P_BARE/" "127.0.0.1:$P_BARE" "$dir/bare.res"
		run_wrk gatehouse "http://127.0.0.1:$P_GATE/" "$APP_HOST" "$dir/gatehouse.res"
	done
	local rss_kb
	rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$gpid/status")
	stop_pid "$gpid"

	local name
	{
		echo
		echo "## $title"
		echo
		echo "| target | req/s (median of $RUNS) | p50 ms | p99 ms |"
		echo "|---|---:|---:|---:|"
		for name in origin bare gatehouse; do
			printf '| %s | %.0f | %.3f | %.3f |\n' "$name" \
				"$(col "$dir/$name.res" 1)" "$(col "$dir/$name.res" 2)" "$(col "$dir/$name.res" 3)"
		done
		local tr pr
		tr=$(ratio "$(col "$dir/gatehouse.res" 1)" "$(col "$dir/bare.res" 1)")
		pr=$(ratio "$(col "$dir/gatehouse.res" 3)" "$(col "$dir/bare.res" 3)")
		echo
		echo "| measure | value | target | |"
		echo "|---|---:|---:|---|"
		echo "| throughput Gatehouse / bare | $tr | >= 0.90 | $(verdict "$tr" ">=" 0.90) |"
		echo "| p99 Gatehouse / bare | $pr | <= 1.15 | $(verdict "$pr" "<=" 1.15) |"
		local rss_mb startup_s
		rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.0f", k / 1024 }')
		startup_s=$(awk -v m="$startup_ms" 'BEGIN { printf "%.2f", m / 1000 }')
		if [[ $seedn != 0 ]]; then
			echo "| Gatehouse RSS after load, MB | $rss_mb | <= 300 | $(verdict "$rss_mb" "<=" 300) |"
			echo "| start-up to first certs 200, s | $startup_s | <= 2 | $(verdict "$startup_s" "<=" 2) |"
		else
			echo "| Gatehouse RSS after load, MB | $rss_mb | | |"
			echo "| start-up to first certs 200, s | $startup_s | | |"
		fi
	} | tee -a "$WORK/report.md"
}

scenario "Fresh database" 0
if [[ $SKIP_MILLION != 1 ]]; then
	scenario "$MILLION sessions and $MILLION revoked sessions" "$MILLION"
fi
if [[ -n ${BENCH_CPUPROFILE:-} ]]; then
	echo
	echo "CPU profile of Gatehouse under load ($BENCH_CPUPROFILE):"
	go tool pprof -top -nodecount=15 "$BT" "$BENCH_CPUPROFILE" 2>/dev/null | sed -n '1,25p'
fi
