#!/bin/sh
# run.sh: campusd against memcached on this machine, side by side, in one run:
# campusd PING and ECHO of a 16 KiB literal against memcached get of a small
# and of a 16 KiB value, 50 connections, pipeline depth 1 and 16. Prints a
# table with rps, latency and the servers' CPU time per request, and the
# campusd/memcached ratios. A benchmark: it asserts nothing (README.md).
#
#   sh tests/bench/run.sh [BUILD_DIR]        (default build-bench, a Release build)
#
# Settings (environment): BENCH_WORKERS="1 2" (campusd --workers = memcached -t,
# one round each; default 1), BENCH_CONNS (50), BENCH_DEPTHS ("1 16"),
# BENCH_DURATION (5 s measured per figure), BENCH_WARMUP (1 s),
# BENCH_SIZE (16384), BENCH_SMALL (16: the small memcached value),
# BENCH_ROUNDS (5: every figure of this part taken that many times,
# interleaved with its reference; each figure's rps is the median of its
# rounds, each ratio the median of the rounds' ratios; p50 and p99 are the
# last round's). At depth 1
# it also READs a generated lesson of exactly BENCH_SIZE bytes (text) against memcached
# get of a value of the same size. Then it runs content.sh (load time against
# cmark, READ against nginx; see there) unless BENCH_CONTENT=0, and
# figures.py (idle connections, logins, DONE; see there) unless
# BENCH_FIGURES=0, and ends with the summary: every figure of issue 18 as a
# ratio against the reference taken in the same run.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-build-bench}" && pwd)
LOADGEN=$BUILD/tests/bench/loadgen
CAMPUSD=$BUILD/daemon/campusd
WORKERS=${BENCH_WORKERS:-1}
CONNS=${BENCH_CONNS:-50}
DEPTHS=${BENCH_DEPTHS:-1 16}
ROUNDS=${BENCH_ROUNDS:-5}
DURATION=${BENCH_DURATION:-5}
WARMUP=${BENCH_WARMUP:-1}
BIG=${BENCH_SIZE:-16384}
SMALL=${BENCH_SMALL:-16}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$ROOT/tests/bench/lib.sh"

for f in "$LOADGEN" "$CAMPUSD" "$BUILD/tests/bench/catalog_dump"; do
    [ -x "$f" ] || { echo "run.sh: $f is missing: build $BUILD first" >&2; exit 2; }
done
command -v memcached >/dev/null || { echo "run.sh: memcached is not installed (scripts/deps.sh bench)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "run.sh: python3 is needed to find free ports" >&2; exit 2; }
if grep -q '^CAMPUS_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    echo "run.sh: warning: $BUILD is a sanitizer build; its figures mean little" >&2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/campus-bench.XXXXXX")
RESULTS=$TMP/results
: >"$RESULTS"
# Every figure of the summary, one "figure<TAB>campusd<TAB>reference<TAB>ratio<TAB>aim"
# line each, appended by this script, content.sh and figures.py.
SUMMARY=$TMP/summary
: >"$SUMMARY"
export BENCH_SUMMARY="$SUMMARY"

# The bundled courses and one generated lesson of 16 KiB as text (the READ
# figure against memcached get of the same size).
COURSES=$TMP/courses
cp -r "$ROOT/courses" "$COURSES"
python3 "$ROOT/tests/bench/gen_courses.py" "$TMP/gen16" 1 1 1 2200 >/dev/null
READ16=bench-course-01/m1-l01-buyers
# Its text made exactly BENCH_SIZE bytes (a paragraph of "a" appended), so
# that READ and the memcached get beside it move the same bytes: memcached
# is much faster just below 16 KiB, where a value still fits one slab chunk
# (README.md, "The 16 KiB READ"), and the figure is against get 16 KiB.
if ! read16_size=$(python3 "$ROOT/tests/bench/pad_lesson.py" "$BUILD/tests/bench/catalog_dump" \
        "$TMP/gen16" "$READ16" "$(ls "$TMP"/gen16/bench-course-01/*/01-m1-l01-buyers.md)" "$BIG"); then
    echo "run.sh: warning: the READ lesson's text is $read16_size bytes, not $BIG" >&2
fi
cp -r "$TMP/gen16/bench-course-01" "$COURSES/"
MC_PID=
CD_PID=
CD_PIDS=
LG_PID=
CD_DATA=

stop_servers() {
    stop_campusd
    stop_pid "$MC_PID"
    MC_PID=
}

cleanup() {
    stop_pid "$LG_PID"
    stop_servers
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_servers() {
    w=$1
    MC_PORT=$(free_port)
    mc_user=
    [ "$(id -u)" -ne 0 ] || mc_user="-u root"
    # shellcheck disable=SC2086
    memcached -l 127.0.0.1 -p "$MC_PORT" -t "$w" -U 0 -c 4096 $mc_user >"$TMP/memcached.log" 2>&1 &
    MC_PID=$!
    wait_port "$MC_PORT" "$MC_PID" || { cat "$TMP/memcached.log" >&2; exit 1; }

    CD_PORT=$(free_port)
    CD_DATA=$TMP/data-$w
    "$CAMPUSD" --bind 127.0.0.1 --text-port "$CD_PORT" --tls-port 0 --http-port 0 \
        --data "$CD_DATA" --workers "$w" --courses "$COURSES" --log-level warn \
        >"$TMP/campusd-$w.log" 2>&1 &
    CD_PID=$!
    wait_port "$CD_PORT" "$CD_PID" || { cat "$TMP/campusd-$w.log" >&2; exit 1; }
    sleep 0.5                       # let every worker take its share of the port
    CD_PIDS=$(same_program_pids "$CD_PID")
}

# One figure: bench LABEL PORT PIDS DEPTH MODE [ARG]. Appends "w label line".
bench() {
    label=$1 port=$2 pids=$3 depth=$4
    shift 4
    # In the background and waited for, so that a signal stops the run at once.
    "$LOADGEN" --port "$port" --server-pids "$pids" --conns "$CONNS" --depth "$depth" \
        --duration "$DURATION" --warmup "$WARMUP" "$@" >"$TMP/line" 2>>"$TMP/loadgen.err" &
    LG_PID=$!
    wait "$LG_PID" || true
    LG_PID=
    line=$(cat "$TMP/line")
    [ -n "$line" ] || line="mode=$1 depth=$depth requests=0 rps=0 p50_us=0 p99_us=0 errors=failed"
    echo "$W $label $line" >>"$RESULTS"
    echo "  $label: $line"
}

echo "campus bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "  $(memcached -V), campusd $("$CAMPUSD" --version 2>&1 | head -1)," \
    "conns=$CONNS, ${DURATION}s per figure after ${WARMUP}s warm-up, load: $(cut -d' ' -f1-3 /proc/loadavg)"

for W in $WORKERS; do
    start_servers "$W"
    echo "workers=$W: campusd on $CD_PORT, memcached on $MC_PORT"
    # Interleaved, so that a burst of load from elsewhere hits both sides,
    # and ROUNDS times over: each figure is the median of its rounds.
    for R in $(seq "$ROUNDS"); do
    for D in $DEPTHS; do
        bench campusd-ping "$CD_PORT" "$CD_PIDS" "$D" ctp-ping
        bench mc-get-small "$MC_PORT" "$MC_PID" "$D" mc-get "$SMALL"
        bench campusd-echo "$CD_PORT" "$CD_PIDS" "$D" ctp-echo "$BIG"
        bench mc-get-big "$MC_PORT" "$MC_PID" "$D" mc-get "$BIG"
        if [ "$D" = 1 ]; then
            bench campusd-read16 "$CD_PORT" "$CD_PIDS" "$D" ctp-read "$READ16" text
            size=$(field "$(tail -1 "$RESULTS")" size)
            bench mc-get-read16 "$MC_PORT" "$MC_PID" "$D" mc-get "${size:-16384}"
        fi
    done
    done
    stop_servers
done

if [ -s "$TMP/loadgen.err" ]; then
    echo "loadgen reported (first lines):"
    sort "$TMP/loadgen.err" | uniq -c | head -5
fi

echo
awk -v big="$BIG" -v small="$SMALL" -v summary_file="$SUMMARY" "$(cat "$ROOT/tests/bench/rounds.awk")"'
{
    w = $1; label = $2; line = $0
    d = field(line, "depth")
    k = w SUBSEP d SUBSEP label
    nr[k]++
    all[k, nr[k]] = field(line, "rps"); cpus[k, nr[k]] = field(line, "server_cpu_us")
    seq[k, nr[k]] = field(line, "rps")       # in round order (median sorts all[])
    ncpu[k] = nr[k]
    rounds[k] = (k in rounds ? rounds[k] " " : "") field(line, "rps")
    p50[k] = field(line, "p50_us"); p99[k] = field(line, "p99_us")
    err[k] += field(line, "errors")
    if (!(w SUBSEP d in seen)) { seen[w SUBSEP d] = 1; order[++n] = w SUBSEP d }
}
END {
    # Each round takes campusd and the reference one after the other, so
    # a ratio is taken within each round and the summary keeps their
    # median: a slow spell of the host that falls on one side of a round
    # moves one ratio, not the figure.
    split("campusd-read16 mc-get-read16 campusd-echo mc-get-big campusd-ping mc-get-small", pairs, " ")
    for (k in nr) {
        split(k, kk, SUBSEP)
        for (j = 1; j <= 5; j += 2) {
            if (kk[3] != pairs[j])
                continue
            m = kk[1] SUBSEP kk[2] SUBSEP pairs[j + 1]
            pr[k] = 0
            pstr[k] = ""
            for (i = 1; i <= nr[k] && i <= nr[m]; i++)
                if (seq[m, i] > 0) {
                    pv[k, ++pr[k]] = seq[k, i] / seq[m, i]
                    pstr[k] = pstr[k] sprintf("%s%.2f", pstr[k] == "" ? "" : " ", seq[k, i] / seq[m, i])
                }
            paired[k] = pr[k] > 0 ? sprintf("%.2f", median(pv, pr, k)) : "n/a"
        }
    }
    for (k in nr) {
        rps[k] = sprintf("%d", median(all, nr, k))
        cpu[k] = sprintf("%.2f", median(cpus, ncpu, k))
    }
    name["campusd-ping"] = "campusd PING"
    name["mc-get-small"] = "memcached get " small " B"
    name["campusd-echo"] = "campusd ECHO " big " B"
    name["mc-get-big"] = "memcached get " big " B"
    name["campusd-read16"] = "campusd READ 16 KiB text"
    name["mc-get-read16"] = "memcached get same size"
    printf "%-7s %-5s %-24s %9s %10s %10s %7s %12s\n", "workers", "depth", "test", "rps", "p50_us", "p99_us", "errors", "srv_cpu_us/req"
    for (i = 1; i <= n; i++) {
        split(order[i], wd, SUBSEP)
        split("campusd-ping mc-get-small campusd-echo mc-get-big campusd-read16 mc-get-read16", labels, " ")
        for (j = 1; j <= 6; j++) {
            k = order[i] SUBSEP labels[j]
            if (!(k in rps))
                continue
            printf "%-7s %-5s %-24s %9s %10s %10s %7s %12s   rounds: %s\n", wd[1], wd[2], name[labels[j]], rps[k], p50[k], p99[k], err[k], cpu[k], rounds[k]
        }
        printf "        campusd/memcached rps, median of the ratios of the rounds: PING vs get %d B = %s (%s), ECHO vs get %d B = %s (%s)\n",
            small, paired[order[i] SUBSEP "campusd-ping"], pstr[order[i] SUBSEP "campusd-ping"],
            big, paired[order[i] SUBSEP "campusd-echo"], pstr[order[i] SUBSEP "campusd-echo"]
        if ((order[i] SUBSEP "campusd-read16") in paired)
            printf "        READ 16 KiB vs get same size = %s (%s)\n",
                paired[order[i] SUBSEP "campusd-read16"], pstr[order[i] SUBSEP "campusd-read16"]
        a = cpu[order[i] SUBSEP "campusd-ping"]; b = cpu[order[i] SUBSEP "mc-get-small"]
        c = cpu[order[i] SUBSEP "campusd-echo"]; e = cpu[order[i] SUBSEP "mc-get-big"]
        printf "        memcached/campusd CPU per request: PING = %s, ECHO = %s\n\n",
            (a > 0 ? sprintf("%.2f", b / a) : "n/a"), (c > 0 ? sprintf("%.2f", e / c) : "n/a")
    }
    for (i = 1; i <= n; i++) {
        split(order[i], wd, SUBSEP)
        if (wd[2] != 1)
            continue
        # campusd and the reference: the medians of their rounds; the
        # ratio: the median of the ratios of the rounds (above).
        a = rps[order[i] SUBSEP "campusd-read16"]; b = rps[order[i] SUBSEP "mc-get-read16"]
        if (a != "")
            summary(sprintf("CTP/1 READ 16 KiB lesson vs memcached get same size, depth 1, %d worker(s)", wd[1]),
                    a " rps", b " rps", paired[order[i] SUBSEP "campusd-read16"], ">= 1.0")
        a = rps[order[i] SUBSEP "campusd-echo"]; b = rps[order[i] SUBSEP "mc-get-big"]
        summary(sprintf("ECHO %d B vs memcached get %d B, depth 1, %d worker(s)", big, big, wd[1]),
                a " rps", b " rps", paired[order[i] SUBSEP "campusd-echo"], ">= 0.8")
        a = rps[order[i] SUBSEP "campusd-ping"]; b = rps[order[i] SUBSEP "mc-get-small"]
        summary(sprintf("PING vs memcached get %d B, depth 1, %d worker(s)", small, wd[1]),
                a " rps", b " rps", paired[order[i] SUBSEP "campusd-ping"], "(no aim)")
    }
}
function summary(figure, ours, ref, ratio, aim) {
    printf "%s\t%s\t%s\t%s\t%s\n", figure, ours, ref, ratio, aim >> summary_file
}' "$RESULTS"
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

# The content benchmarks (issue 3): load time against cmark, READ against
# nginx. Same settings from the environment; BENCH_CONTENT=0 skips them.
if [ "${BENCH_CONTENT:-1}" != 0 ]; then
    echo
    sh "$ROOT/tests/bench/content.sh" "$BUILD" || echo "run.sh: content.sh failed" >&2
fi

# Idle connections, 10,000 connections, logins, DONE (figures.py).
if [ "${BENCH_FIGURES:-1}" != 0 ]; then
    echo
    python3 "$ROOT/tests/bench/figures.py" "$BUILD" || echo "run.sh: figures.py failed" >&2
fi

# The summary: every figure of issue 18, ours beside the reference of the
# same run, and the ratio the issue's aim is about.
echo
echo "summary ($(date -u '+%Y-%m-%d %H:%M UTC'), load: $(cut -d' ' -f1-3 /proc/loadavg)):"
awk -F '\t' '
{ for (i = 1; i <= 5; i++) { cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) } }
END {
    split("figure|campusd|reference|ratio|aim", head, "|")
    for (i = 1; i <= 5; i++) if (length(head[i]) > w[i]) w[i] = length(head[i])
    line = "|"; sep = "|"
    for (i = 1; i <= 5; i++) { line = line sprintf(" %-" w[i] "s |", head[i]); sep = sep sprintf(" %s |", dashes(w[i])) }
    print line; print sep
    for (r = 1; r <= NR; r++) {
        line = "|"
        for (i = 1; i <= 5; i++) line = line sprintf(" %-" w[i] "s |", cell[r, i])
        print line
    }
}
function dashes(n,    s) { s = ""; while (n-- > 0) s = s "-"; return s }' "$SUMMARY"
