#!/usr/bin/env bash
# Benchmark of Gatehouse's authorize path against the best bare Go reverse
# proxy, in one sitting on this machine.
#
# Builds Gatehouse and scripts/bench/benchtool and starts on 127.0.0.1, all
# at once: an origin (200, 1 KiB body, counting its hits), a bare
# httputil.ReverseProxy in front of it (Gatehouse's transport settings and
# pooled copy buffers), Gatehouse with the DEFAULT configuration (access log
# on, log level info, metrics listener on) and Gatehouse with the access log
# off. The app cookies come from a real one-time-PIN sign-in (the email form
# posted, the PIN read from Gatehouse's log, the code posted, the hand-off
# followed), never from the store.
#
# Rows, each a configuration, measured in RUNS rounds of one wrk run each
# (wrk -t THREADS -c CONNS -d DURATION), interleaved round-robin (the order
# rotates every round) after a warm-up run of each:
#   origin            wrk straight at the origin (the ceiling)
#   bare              the bare proxy
#   bare_contract     the bare proxy also passing the origin the identity
#                     headers of Gatehouse's contract, unverified (the
#                     CF_Authorization cookie as Cf-Access-Jwt-Assertion, a
#                     fixed Cf-Access-Authenticated-User-Email): the origin
#                     parses the same bytes as behind Gatehouse, so
#                     gatehouse / bare_contract is what deciding costs and
#                     bare_contract / bare what the contract's headers cost
#   gatehouse         Gatehouse, default configuration: the headline row
#   gatehouse_logoff  Gatehouse with log.access_log = false
#   refresh           the default Gatehouse, every request carrying one
#                     expired app token of a live session (the silent refresh)
#   gatehouse_gogcN   the default configuration run with GOGC=N (GOGC_ROW,
#                     100 unless set): with GOGC set Gatehouse leaves the
#                     collector alone, so gatehouse_gogc100 is Gatehouse
#                     without its garbage-collector tuning (README, Benchmark)
#   gatehouse_pg      unless PG_ROW=0: the default configuration with
#                     [store] backend = "postgres", on a throwaway PostgreSQL
#                     cluster started here (initdb; as the postgres user when
#                     run as root) on loopback, against the same origin
# Every run is checked: no socket errors, no non-2xx answer (wrk counts 3xx
# as success, so a run of redirects would otherwise pass), and the origin's
# hit count must match wrk's count (up to CONNS requests still in flight
# when wrk stops, which reach the origin but that wrk does not count); a run
# that fails a check stops the benchmark. Beside req/s and latency, the
# front process's CPU time per request (utime + stime from /proc/PID/stat).
# A ratio is the median of the per-round ratios (the two runs of a round are
# minutes apart at most, so a machine that slows down for a while slows
# both), with the ratio of the medians beside it.
#
# Then, unless SKIP_MILLION=1, a data directory with MILLION live and
# MILLION revoked sessions: Gatehouse's start-up to its first answer (the
# team domain's /cdn-cgi/access/certs), to the first authorized answer (an
# app request with a signed-in cookie, which waits for the revocation
# index), and its RSS once loaded.
#
# Environment:
#   RUNS=3 DURATION=10 WARMUP=3 THREADS=2 CONNS=50
#   QUICK=1           smoke test: RUNS=1 DURATION=2 WARMUP=1 MILLION=100000
#   GOGC_ROW=N        the GOGC of the gatehouse_gogcN row (default 100;
#                     GOGC_ROW= with nothing drops the row)
#   PG_ROW=0          skip the gatehouse_pg row (it needs Debian's postgresql,
#                     which scripts/install-test-deps.sh installs)
#   SKIP_MILLION=1    skip the start-up rows
#   MILLION=1000000   sessions (and revoked sessions) of the start-up rows
#   PORT_ORIGIN PORT_BARE PORT_BARE_CONTRACT PORT_GATE PORT_GATE_LOGOFF PORT_MILLION
#   PORT_METRICS PORT_METRICS_LOGOFF PORT_METRICS_MILLION PORT_GOGC PORT_METRICS_GOGC
#   PORT_PG PORT_GATE_PG PORT_METRICS_PG
#                     listen ports (default: free ports picked at start)
#   SRC=DIR           Gatehouse source tree to build (default: this repository;
#                     benchtool always comes from this one)
#   KEEP=1            keep the temporary directory (logs, configs, wrk output)
#   PROFILE=DIR       run the default row's Gatehouse in benchtool (the same
#                     code as `gatehouse serve`) and write its CPU and
#                     allocation profiles of the whole run to DIR/gatehouse.cpu
#                     and DIR/gatehouse.mem (go tool pprof DIR/gatehouse.cpu),
#                     and the bare proxy's CPU profile to DIR/bare.cpu
#
# Every process started here is stopped by PID on exit; traffic stays on
# loopback; nothing outside the temporary directory is written.
set -euo pipefail

if [[ ${QUICK:-0} == 1 ]]; then
	RUNS=${RUNS:-1} DURATION=${DURATION:-2} WARMUP=${WARMUP:-1} MILLION=${MILLION:-100000}
fi
RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
THREADS=${THREADS:-2}
CONNS=${CONNS:-50}
SKIP_MILLION=${SKIP_MILLION:-0}
MILLION=${MILLION:-1000000}
PROFILE=${PROFILE:-}
if [[ -n $PROFILE ]]; then mkdir -p "$PROFILE" && PROFILE=$(cd "$PROFILE" && pwd); fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=${SRC:-$ROOT}
EMAIL=bench@bench.test
TICK=$(getconf CLK_TCK)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-bench.XXXXXX")
PIDS=()
PID_PG= # PostgreSQL, stopped after every Gatehouse

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
	if [[ -n $PID_PG ]]; then
		kill -INT "$PID_PG" 2>/dev/null || true # fast shutdown
		stop_pid "$PID_PG"
	fi
	if [[ ${KEEP:-0} == 1 ]]; then echo "bench: kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v wrk >/dev/null; then
	echo "bench: installing wrk (scripts/install-test-deps.sh installs it too)" >&2
	if [[ $(id -u) == 0 ]]; then apt-get install -y wrk >/dev/null; else sudo apt-get install -y wrk >/dev/null; fi
fi
command -v curl >/dev/null || die "curl is required"

echo "bench: building in $SRC" >&2
# benchtool is a module of its own (scripts/bench/benchtool/go.mod).
(cd "$SRC" && go build -o "$WORK/gatehouse" .) && (cd "$ROOT" && go build -C scripts/bench/benchtool -o "$WORK/benchtool" .) ||
	die "build failed"
BT=$WORK/benchtool

read -r -a FREE <<<"$("$BT" ports -n 14 | tr '\n' ' ')"
P_ORIGIN=${PORT_ORIGIN:-${FREE[0]}}
P_BARE=${PORT_BARE:-${FREE[1]}}
P_GATE=${PORT_GATE:-${FREE[2]}}
P_LOGOFF=${PORT_GATE_LOGOFF:-${FREE[3]}}
P_MILLION=${PORT_MILLION:-${FREE[4]}}
P_MET=${PORT_METRICS:-${FREE[5]}}
P_MET_LOGOFF=${PORT_METRICS_LOGOFF:-${FREE[6]}}
P_MET_MILLION=${PORT_METRICS_MILLION:-${FREE[7]}}
P_GOGC=${PORT_GOGC:-${FREE[8]}}
P_MET_GOGC=${PORT_METRICS_GOGC:-${FREE[9]}}
P_PG=${PORT_PG:-${FREE[10]}}
P_GATE_PG=${PORT_GATE_PG:-${FREE[11]}}
P_MET_PG=${PORT_METRICS_PG:-${FREE[12]}}
P_CONTRACT=${PORT_BARE_CONTRACT:-${FREE[13]}}
GOGC_ROW=${GOGC_ROW-100}
PG_ROW=${PG_ROW:-1}

# code URL HOST: the status of a GET of URL with Host HOST ("000": none).
code() { curl -s -o /dev/null -w '%{http_code}' -H "Host: $2" "${@:3}" "$1" || true; }

# wait_200 URL HOST TIMEOUT_S [CURL_ARGS...]: poll until URL answers 200.
wait_200() {
	local url=$1 host=$2 deadline=$((SECONDS + $3))
	until [[ $(code "$url" "$host" "${@:4}") == 200 ]]; do
		((SECONDS < deadline)) || return 1
		sleep 0.005
	done
}

# write_config DIR PORT METRICS_PORT EXTRA: a Gatehouse config in
# DIR/bench.toml with the apps "bench" and "refresh" (tokens of 1 s, so
# that a signed-in cookie is soon an expired one) on port PORT; EXTRA is
# added at the top (the default configuration has none).
write_config() {
	local dir=$1 port=$2 mport=$3 extra=$4
	mkdir -p "$dir"
	cat >"$dir/bench.toml" <<EOF
team_domain = "auth.bench.test:$port"
listen = "127.0.0.1:$port"
data_dir = "$dir/data"
$extra

[tls]
mode = "off"

[metrics]
listen = "127.0.0.1:$mport"

[[idps]]
id = "pin"
kind = "otp"

[[apps]]
name = "bench"
domains = ["bench.bench.test:$port"]
origin = "http://127.0.0.1:$P_ORIGIN"

  [[apps.policies]]
  name = "everyone"
  decision = "allow"
  include = [{ everyone = true }]

[[apps]]
name = "refresh"
domains = ["refresh.bench.test:$port"]
origin = "http://127.0.0.1:$P_ORIGIN"
session_duration = "1s"

  [[apps.policies]]
  name = "everyone"
  decision = "allow"
  include = [{ everyone = true }]
EOF
}

# start_gatehouse DIR PORT [GOGC]: start Gatehouse on DIR/bench.toml,
# logging to DIR/gatehouse.log; sets GPID; waits for the first answer.
start_gatehouse() {
	if [[ -n $PROFILE && $1 == "$WORK/default" ]]; then
		"$BT" serve -config "$1/bench.toml" -cpuprofile "$PROFILE/gatehouse.cpu" \
			-memprofile "$PROFILE/gatehouse.mem" 2>>"$1/gatehouse.log" &
	elif [[ -n ${3:-} ]]; then
		GOGC=$3 "$WORK/gatehouse" serve -config "$1/bench.toml" 2>>"$1/gatehouse.log" &
	else
		"$WORK/gatehouse" serve -config "$1/bench.toml" 2>>"$1/gatehouse.log" &
	fi
	GPID=$!
	PIDS+=("$GPID")
	wait_200 "http://127.0.0.1:$2/cdn-cgi/access/certs" "auth.bench.test:$2" 120 ||
		die "Gatehouse in $1 did not start: $(tail -20 "$1/gatehouse.log")"
}

# sign_in DIR PORT: sign in through the PIN pages to both apps; sets
# TOKEN_BENCH and TOKEN_REFRESH.
sign_in() {
	local out
	out=$("$BT" signin -email "$EMAIL" -log "$1/gatehouse.log" \
		"http://bench.bench.test:$2/" "http://refresh.bench.test:$2/" 2>"$1/signin.err") ||
		die "sign-in failed: $(cat "$1/signin.err")"
	{ read -r TOKEN_BENCH; read -r TOKEN_REFRESH; } <<<"$out"
}

# start_postgres: a throwaway PostgreSQL cluster in $WORK/pg on P_PG with
# an empty database "bench"; sets PG_DSN.
start_postgres() {
	local bin d=$WORK/pg
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[[ -x $bin/initdb ]] || die "PostgreSQL not found (run scripts/install-test-deps.sh, or PG_ROW=0)"
	mkdir -p "$d"
	local as=()
	if [[ $(id -u) == 0 ]]; then
		chmod 711 "$WORK" # the postgres user may pass through, not list
		chown postgres "$d"
		as=(runuser -u postgres --)
	fi
	"${as[@]}" "$bin/initdb" -D "$d/data" -A trust -U gatehouse -E UTF8 --locale=C >"$d/initdb.log" 2>&1 ||
		die "initdb failed: $(cat "$d/initdb.log")"
	"${as[@]}" "$bin/postgres" -D "$d/data" -k "$d" -c listen_addresses=127.0.0.1 -p "$P_PG" >"$d/postgres.log" 2>&1 &
	PID_PG=$!
	local deadline=$((SECONDS + 30))
	until "$bin/pg_isready" -q -h 127.0.0.1 -p "$P_PG"; do
		((SECONDS < deadline)) || die "PostgreSQL did not start: $(tail -20 "$d/postgres.log")"
		sleep 0.1
	done
	"$bin/psql" -q -h 127.0.0.1 -p "$P_PG" -U gatehouse -d postgres -c 'CREATE DATABASE bench' ||
		die "cannot create the bench database"
	PG_DSN="postgres://gatehouse@127.0.0.1:$P_PG/bench?sslmode=disable"
}

"$BT" origin -addr "127.0.0.1:$P_ORIGIN" 2>"$WORK/origin.log" &
PIDS+=($!)
PID_ORIGIN=$!
BENCHTOOL_CPUPROFILE=${PROFILE:+$PROFILE/bare.cpu} "$BT" bareproxy -addr "127.0.0.1:$P_BARE" -to "http://127.0.0.1:$P_ORIGIN" 2>"$WORK/bare.log" &
PIDS+=($!)
PID_BARE=$!
"$BT" bareproxy -contract -addr "127.0.0.1:$P_CONTRACT" -to "http://127.0.0.1:$P_ORIGIN" 2>"$WORK/bare_contract.log" &
PIDS+=($!)
PID_CONTRACT=$!
wait_200 "http://127.0.0.1:$P_ORIGIN/" "127.0.0.1:$P_ORIGIN" 10 || die "origin did not start"
wait_200 "http://127.0.0.1:$P_BARE/" "127.0.0.1:$P_BARE" 10 || die "bare proxy did not start"
wait_200 "http://127.0.0.1:$P_CONTRACT/" "127.0.0.1:$P_CONTRACT" 10 || die "contract bare proxy did not start"

write_config "$WORK/default" "$P_GATE" "$P_MET" ""
write_config "$WORK/logoff" "$P_LOGOFF" "$P_MET_LOGOFF" $'[log]\naccess_log = false'
start_gatehouse "$WORK/default" "$P_GATE"
PID_GATE=$GPID
start_gatehouse "$WORK/logoff" "$P_LOGOFF"
PID_LOGOFF=$GPID
sign_in "$WORK/default" "$P_GATE"
TOK_DEFAULT=$TOKEN_BENCH
TOK_EXPIRED=$TOKEN_REFRESH
sign_in "$WORK/logoff" "$P_LOGOFF"
TOK_LOGOFF=$TOKEN_BENCH
if [[ -n $GOGC_ROW ]]; then
	write_config "$WORK/gogc" "$P_GOGC" "$P_MET_GOGC" ""
	start_gatehouse "$WORK/gogc" "$P_GOGC" "$GOGC_ROW"
	PID_GOGC=$GPID
	sign_in "$WORK/gogc" "$P_GOGC"
	TOK_GOGC=$TOKEN_BENCH
fi
if [[ $PG_ROW == 1 ]]; then
	start_postgres
	write_config "$WORK/pg-node" "$P_GATE_PG" "$P_MET_PG" $'[store]\nbackend = "postgres"\ndsn = "'"$PG_DSN"'"'
	start_gatehouse "$WORK/pg-node" "$P_GATE_PG"
	PID_GATE_PG=$GPID
	sign_in "$WORK/pg-node" "$P_GATE_PG"
	TOK_PG=$TOKEN_BENCH
fi
sleep 2 # the refresh app's 1 s token is now expired

# The checks a row stands on: Gatehouse passes the origin's body for a
# signed-in cookie, refuses a request without one, and refreshes the
# expired token (a new CF_Authorization cookie on the answer).
body=$(curl -s -H "Host: bench.bench.test:$P_GATE" -H "Cookie: CF_Authorization=$TOK_DEFAULT" "http://127.0.0.1:$P_GATE/")
[[ $body == "$(curl -s "http://127.0.0.1:$P_ORIGIN/")" ]] || die "Gatehouse did not return the origin's body"
[[ $(code "http://127.0.0.1:$P_GATE/" "bench.bench.test:$P_GATE") == 302 ]] || die "Gatehouse let a request without a cookie through"
curl -s -D "$WORK/refresh.head" -o /dev/null -H "Host: refresh.bench.test:$P_GATE" \
	-H "Cookie: CF_Authorization=$TOK_EXPIRED" "http://127.0.0.1:$P_GATE/"
grep -qi '^set-cookie: CF_Authorization=' "$WORK/refresh.head" && grep -q '^HTTP/1.1 200' "$WORK/refresh.head" ||
	die "the expired token was not refreshed: $(cat "$WORK/refresh.head")"

# The identity the origin gets: the cookie's token as the assertion and the
# user's email, behind Gatehouse and behind the contract bare proxy alike
# (which the bare_contract row stands on); none behind the bare proxy.
identity() { curl -s -H "Host: $2" -H "Cookie: CF_Authorization=$TOK_DEFAULT" "$1/__bench/identity"; }
want=$(printf '%s\n%s' "$TOK_DEFAULT" "$EMAIL")
[[ $(identity "http://127.0.0.1:$P_GATE" "bench.bench.test:$P_GATE") == "$want" ]] ||
	die "the origin did not get the identity headers from Gatehouse"
[[ $(identity "http://127.0.0.1:$P_CONTRACT" "127.0.0.1:$P_CONTRACT") == "$want" ]] ||
	die "the origin did not get the identity headers from the contract bare proxy"
[[ -z $(identity "http://127.0.0.1:$P_BARE" "127.0.0.1:$P_BARE" | tr -d '\n') ]] ||
	die "the bare proxy passed identity headers"

# Each row: name, URL, Host header, cookie, front PID.
CONFIGS=(origin bare bare_contract gatehouse gatehouse_logoff refresh)
declare -A URL HOST COOKIE FRONT
URL[origin]="http://127.0.0.1:$P_ORIGIN/" HOST[origin]="127.0.0.1:$P_ORIGIN" COOKIE[origin]=$TOK_DEFAULT FRONT[origin]=$PID_ORIGIN
URL[bare]="http://127.0.0.1:$P_BARE/" HOST[bare]="127.0.0.1:$P_BARE" COOKIE[bare]=$TOK_DEFAULT FRONT[bare]=$PID_BARE
URL[bare_contract]="http://127.0.0.1:$P_CONTRACT/" HOST[bare_contract]="127.0.0.1:$P_CONTRACT" COOKIE[bare_contract]=$TOK_DEFAULT FRONT[bare_contract]=$PID_CONTRACT
URL[gatehouse]="http://127.0.0.1:$P_GATE/" HOST[gatehouse]="bench.bench.test:$P_GATE" COOKIE[gatehouse]=$TOK_DEFAULT FRONT[gatehouse]=$PID_GATE
URL[gatehouse_logoff]="http://127.0.0.1:$P_LOGOFF/" HOST[gatehouse_logoff]="bench.bench.test:$P_LOGOFF" COOKIE[gatehouse_logoff]=$TOK_LOGOFF FRONT[gatehouse_logoff]=$PID_LOGOFF
URL[refresh]="http://127.0.0.1:$P_GATE/" HOST[refresh]="refresh.bench.test:$P_GATE" COOKIE[refresh]=$TOK_EXPIRED FRONT[refresh]=$PID_GATE
if [[ $PG_ROW == 1 ]]; then
	CONFIGS+=(gatehouse_pg)
	URL[gatehouse_pg]="http://127.0.0.1:$P_GATE_PG/" HOST[gatehouse_pg]="bench.bench.test:$P_GATE_PG" COOKIE[gatehouse_pg]=$TOK_PG FRONT[gatehouse_pg]=$PID_GATE_PG
fi
if [[ -n $GOGC_ROW ]]; then
	g=gatehouse_gogc$GOGC_ROW
	CONFIGS+=("$g")
	URL[$g]="http://127.0.0.1:$P_GOGC/" HOST[$g]="bench.bench.test:$P_GOGC" COOKIE[$g]=$TOK_GOGC FRONT[$g]=$PID_GOGC
fi

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

# cpu_ticks PID: utime + stime of PID, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# hits: the origin's hit count.
hits() { curl -s "http://127.0.0.1:$P_ORIGIN/__bench/hits"; }

# run_wrk NAME SECONDS [OUT]: one checked wrk run of configuration NAME;
# appends "rps p50 p99 cpu_us_per_request" to OUT when given.
run_wrk() {
	local name=$1 secs=$2 out=${3:-} log h0 h1 c0 c1
	log=$WORK/wrk-$name-$(date +%s%N).txt
	h0=$(hits)
	c0=$(cpu_ticks "${FRONT[$name]}")
	wrk -t"$THREADS" -c"$CONNS" -d"${secs}s" --latency -H "Host: ${HOST[$name]}" \
		-H "Cookie: CF_Authorization=${COOKIE[$name]}" "${URL[$name]}" >"$log" 2>&1 ||
		die "wrk against $name failed: $(cat "$log")"
	c1=$(cpu_ticks "${FRONT[$name]}")
	sleep 0.2 # let the requests wrk abandoned at its end reach the origin
	h1=$(hits)
	if grep -q -e 'Non-2xx or 3xx' -e 'Socket errors' "$log"; then
		die "wrk against $name saw errors or non-2xx answers: $(cat "$log")"
	fi
	local n rps p50 p99 diff cpu
	n=$(awk '/ requests in / { print $1 }' "$log")
	rps=$(awk '/^Requests\/sec:/ { print $2 }' "$log")
	p50=$(to_ms "$(awk '$1 == "50%" { print $2 }' "$log")")
	p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$log")")
	[[ -n $n && -n $rps && -n $p50 && -n $p99 ]] || die "cannot parse wrk output: $(cat "$log")"
	diff=$((h1 - h0 - n))
	if ((diff < 0 || diff > CONNS)); then
		die "$name: the origin counted $((h1 - h0)) requests, wrk $n: rejecting the run"
	fi
	cpu=$(awk -v t="$((c1 - c0))" -v hz="$TICK" -v n="$n" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')
	printf 'bench:   %-16s %8.0f req/s  p50 %7.3f ms  p99 %7.3f ms  cpu %6.1f us/req  origin %+d\n' \
		"$name" "$rps" "$p50" "$p99" "$cpu" "$diff" >&2
	[[ -z $out ]] || echo "$rps $p50 $p99 $cpu" >>"$out"
}

echo "bench: warm-up, ${WARMUP}s each" >&2
for name in "${CONFIGS[@]}"; do run_wrk "$name" "$WARMUP"; done
echo "bench: $RUNS rounds of ${DURATION}s per configuration, -t$THREADS -c$CONNS, round-robin" >&2
for ((r = 0; r < RUNS; r++)); do
	for ((i = 0; i < ${#CONFIGS[@]}; i++)); do
		name=${CONFIGS[(i + r) % ${#CONFIGS[@]}]}
		run_wrk "$name" "$DURATION" "$WORK/$name.res"
	done
done

# col NAME N: the median of column N of NAME's results.
col() { awk -v n="$2" '{ print $n }' "$WORK/$1.res" | median; }
# spread NAME: (max - min) / median of NAME's req/s, in percent.
spread() { awk '{ print $1 }' "$WORK/$1.res" | sort -g | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.0f", (a[NR] - a[1]) * 100 / m }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# pratio A B N: the median over the rounds of A's column N / B's column N
# in the same round.
pratio() { paste -d ' ' "$WORK/$1.res" "$WORK/$2.res" | awk -v n="$3" -v w="$(awk '{ print NF; exit }' "$WORK/$1.res")" '{ print $n / $(w + n) }' | median | xargs printf '%.2f'; }
verdict() { awk -v v="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == ">=") ? v >= l : v <= l; print ok ? "ok" : "MISSED" }'; }

{
	echo
	echo "## Throughput ($RUNS rounds of ${DURATION}s, wrk -t$THREADS -c$CONNS, medians)"
	echo
	echo "| configuration | req/s | spread | p50 ms | p99 ms | front CPU us/req |"
	echo "|---|---:|---:|---:|---:|---:|"
	for name in "${CONFIGS[@]}"; do
		printf '| %s | %.0f | %s%% | %.3f | %.3f | %.1f |\n' "$name" "$(col "$name" 1)" "$(spread "$name")" \
			"$(col "$name" 2)" "$(col "$name" 3)" "$(col "$name" 4)"
	done
	echo
	echo "| measure | paired | of medians | target | |"
	echo "|---|---:|---:|---:|---|"
	# m LABEL A B N [OP LIMIT]: A's column N over B's, judged on the
	# paired ratio when a target is given.
	m() {
		local p
		p=$(pratio "$2" "$3" "$4")
		if [[ -n ${5:-} ]]; then
			echo "| $1 | $p | $(ratio "$(col "$2" "$4")" "$(col "$3" "$4")") | $5 $6 | $(verdict "$p" "$5" "$6") |"
		else
			echo "| $1 | $p | $(ratio "$(col "$2" "$4")" "$(col "$3" "$4")") | | |"
		fi
	}
	m "throughput gatehouse (default) / bare" gatehouse bare 1 ">=" 0.95
	m "p99 gatehouse (default) / bare" gatehouse bare 3 "<=" 1.10
	m "CPU per request gatehouse (default) / bare" gatehouse bare 4 "<=" 1.10
	m "throughput gatehouse_logoff / bare" gatehouse_logoff bare 1 ">=" 0.95
	m "CPU per request gatehouse_logoff / bare" gatehouse_logoff bare 4 "<=" 1.10
	m "throughput gatehouse / bare_contract (what deciding costs)" gatehouse bare_contract 1
	m "p99 gatehouse / bare_contract" gatehouse bare_contract 3
	m "CPU per request gatehouse / bare_contract" gatehouse bare_contract 4
	m "throughput bare_contract / bare (what the contract's headers cost)" bare_contract bare 1
	m "CPU per request refresh / gatehouse" refresh gatehouse 4 "<=" 1.5
	m "p50 refresh / gatehouse" refresh gatehouse 2 "<=" 1.5
	if [[ $PG_ROW == 1 ]]; then
		m "throughput gatehouse_pg (PostgreSQL store) / gatehouse (SQLite)" gatehouse_pg gatehouse 1
		m "p99 gatehouse_pg / gatehouse" gatehouse_pg gatehouse 3
		m "CPU per request gatehouse_pg / gatehouse" gatehouse_pg gatehouse 4
	fi
	if [[ -n $GOGC_ROW ]]; then
		g=gatehouse_gogc$GOGC_ROW
		m "throughput $g / bare (GOGC=$GOGC_ROW, without Gatehouse's GC tuning)" "$g" bare 1
		m "p99 $g / bare" "$g" bare 3
		m "CPU per request $g / bare" "$g" bare 4
	fi
} | tee -a "$WORK/report.md"

if [[ $SKIP_MILLION == 1 ]]; then exit 0; fi

dir=$WORK/million
write_config "$dir" "$P_MILLION" "$P_MET_MILLION" ""
echo "bench: seeding $MILLION sessions and $MILLION revoked sessions" >&2
"$BT" seed -config "$dir/bench.toml" -sessions "$MILLION" -revoked "$MILLION" 2>"$dir/seed.log" >&2 ||
	die "seed failed: $(cat "$dir/seed.log")"
# Sign in once (untimed), then time a restart.
start_gatehouse "$dir" "$P_MILLION"
sign_in "$dir" "$P_MILLION"
stop_pid "$GPID"
t0=$(date +%s%N)
"$WORK/gatehouse" serve -config "$dir/bench.toml" 2>>"$dir/gatehouse.log" &
GPID=$!
PIDS+=("$GPID")
wait_200 "http://127.0.0.1:$P_MILLION/cdn-cgi/access/certs" "auth.bench.test:$P_MILLION" 120 ||
	die "Gatehouse did not start: $(tail -20 "$dir/gatehouse.log")"
t1=$(date +%s%N)
wait_200 "http://127.0.0.1:$P_MILLION/" "bench.bench.test:$P_MILLION" 120 -H "Cookie: CF_Authorization=$TOKEN_BENCH" ||
	die "Gatehouse never let the signed-in cookie through: $(tail -20 "$dir/gatehouse.log")"
t2=$(date +%s%N)
sleep 1
rss_mb=$(awk '/^VmRSS:/ { printf "%.0f", $2 / 1024 }' "/proc/$GPID/status")
first=$(awk -v n="$((t1 - t0))" 'BEGIN { printf "%.2f", n / 1e9 }')
authz=$(awk -v n="$((t2 - t0))" 'BEGIN { printf "%.2f", n / 1e9 }')
{
	echo
	echo "## Start-up with $MILLION live and $MILLION revoked sessions"
	echo
	echo "| measure | value | target | |"
	echo "|---|---:|---:|---|"
	echo "| start to first answer (certs 200), s | $first | <= 0.5 | $(verdict "$first" "<=" 0.5) |"
	echo "| start to first authorized answer (revocations loaded), s | $authz | | |"
	echo "| RSS once loaded, MB | $rss_mb | <= 150 | $(verdict "$rss_mb" "<=" 150) |"
} | tee -a "$WORK/report.md"
