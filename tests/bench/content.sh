#!/bin/sh
# content.sh: the content benchmarks of issue 3, in one run (README.md):
#
# 1. Load: campusd --check over a generated tree of 1,000 lessons (front
#    matter, HTML and text renderings, search index, exercises: the full
#    load) against the cmark CLI rendering the same files to HTML, as one
#    process over all of them and as one process per file. Ratio; aim: within
#    2x of cmark.
# 2. READ: campusd answering one lesson over HTTP (GET /api/lessons/..., JSON)
#    and over CTP/1 (READ ... html) against nginx serving the very same bytes
#    as static files, 50 keep-alive connections. Ratio; aim: HTTP at least 0.7
#    of nginx. With more than one worker, nginx listens with reuseport, one
#    socket a worker as campusd has, and a second nginx on one shared socket
#    (its default) is shown beside it; each run's split of the connections
#    between the workers is printed (conns/worker). And the JSON in gzip (loadgen --header 'Accept-Encoding: gzip',
#    every answer checked for Content-Encoding: gzip) against nginx's
#    gzip_static serving campusd's own gzip bytes as lesson.json.gz; the
#    hot-path counter of /metrics says how many of campusd's took the hot
#    path.
#
#   sh tests/bench/content.sh [BUILD_DIR]      (default build-bench, a Release build)
#
# Settings (environment): BENCH_CONTENT_WORKERS ("1 2": campusd --workers =
# nginx worker_processes, one round each), BENCH_CONNS (50), BENCH_READ_DEPTHS ("1"),
# BENCH_DURATION (5 s measured per figure), BENCH_WARMUP (1 s),
# BENCH_READ_ROUNDS (3: the READ figures taken that many times, interleaved;
# each rps and CPU is the median of its rounds, each ratio the median of the
# rounds' own ratios; p50 and p99 are the last round's),
# BENCH_LOAD_RUNS (10 timed runs of the full load and of cmark over all files,
# in BENCH_LOAD_ROUNDS rounds: 5),
# BENCH_EACH_RUNS (3 timed runs of cmark once per file), BENCH_TREE ("10 5 20
# 600": courses, modules per course, lessons per module, words per lesson),
# BENCH_LESSON (cluster-development/what-is-a-cluster), BENCH_PARTS ("load
# read"). With BENCH_SUMMARY set (run.sh sets it), the figures of issue 18
# are appended to that file for run.sh's summary. A benchmark: it asserts
# nothing about speed.
set -eu

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-build-bench}" && pwd)
LOADGEN=$BUILD/tests/bench/loadgen
CAMPUSD=$BUILD/daemon/campusd
WORKERS=${BENCH_CONTENT_WORKERS:-1 2}
CONNS=${BENCH_CONNS:-50}
DEPTHS=${BENCH_READ_DEPTHS:-1}
DURATION=${BENCH_DURATION:-5}
ROUNDS=${BENCH_READ_ROUNDS:-3}
WARMUP=${BENCH_WARMUP:-1}
LOAD_RUNS=${BENCH_LOAD_RUNS:-10}
LOAD_ROUNDS=${BENCH_LOAD_ROUNDS:-5}
EACH_RUNS=${BENCH_EACH_RUNS:-3}
TREE=${BENCH_TREE:-10 5 20 600}
LESSON=${BENCH_LESSON:-cluster-development/what-is-a-cluster}
PARTS=${BENCH_PARTS:-load read}
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$ROOT/tests/bench/lib.sh"

for f in "$LOADGEN" "$CAMPUSD"; do
    [ -x "$f" ] || { echo "content.sh: $f is missing: build $BUILD first" >&2; exit 2; }
done
command -v python3 >/dev/null || { echo "content.sh: python3 is needed" >&2; exit 2; }
if grep -q '^CAMPUS_SANITIZE:BOOL=ON' "$BUILD/CMakeCache.txt" 2>/dev/null; then
    echo "content.sh: warning: $BUILD is a sanitizer build; its figures mean little" >&2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/campus-content.XXXXXX")
CD_PID=
CD_DATA=
NG_PID=
NS_PID=
LG_PID=

stop_servers() {
    stop_campusd
    stop_pid "$NG_PID"
    stop_pid "$NS_PID"
    NG_PID=
    NS_PID=
}

cleanup() {
    stop_pid "$LG_PID"
    stop_servers
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "campus content bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
    "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
    "load: $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 1. load: campusd --check against cmark -------------------------------

# Times the commands given as "label<TAB>command" lines on stdin (a command
# is split on blanks, no shell; its output is thrown away) and appends
# "label wall_median_ms wall_min_ms cpu_ms runs" lines to $3 (cpu: user +
# system, mean per run). ROUNDS rounds of RUNS/ROUNDS runs each, every command
# in each round, so that load from elsewhere on the machine falls on all of
# them alike. With hyperfine (one warm-up run per command and round), else
# with python3.
time_commands() {
    runs=$1 rounds=$2 out=$3
    per=$(( (runs + rounds - 1) / rounds ))
    cat >"$TMP/cmds"
    if command -v hyperfine >/dev/null; then
        r=1
        while [ "$r" -le "$rounds" ]; do
            set --
            while IFS='	' read -r label cmd; do
                set -- "$@" -n "$label" "$cmd"
            done <"$TMP/cmds"
            hyperfine -N --style basic --warmup 1 --runs "$per" --export-json "$TMP/hf-$r.json" "$@" \
                >"$TMP/hf.out" 2>&1 || { cat "$TMP/hf.out" >&2; return 1; }
            r=$((r + 1))
        done
        python3 - "$TMP" "$rounds" >>"$out" <<'PY'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
times, cpu, order = {}, {}, []
for r in range(1, rounds + 1):
    for res in json.load(open("%s/hf-%d.json" % (tmp, r)))["results"]:
        label = res["command"]
        if label not in times:
            order.append(label)
            times[label], cpu[label] = [], []
        times[label] += res["times"]
        cpu[label] += [res["user"] + res["system"]] * len(res["times"])
for label in order:
    print("%s %.1f %.1f %.1f %d" % (label, statistics.median(times[label]) * 1e3,
          min(times[label]) * 1e3, statistics.mean(cpu[label]) * 1e3, len(times[label])))
PY
    else
        python3 -c '
import resource, statistics, subprocess, sys, time
runs = int(sys.argv[1])
cmds = [l.rstrip("\n").split("\t", 1) for l in open(sys.argv[2]) if l.strip()]
wall = {label: [] for label, _ in cmds}
cpu = {label: 0.0 for label, _ in cmds}
for i in range(runs + 1):                      # the first round is a warm-up
    for label, cmd in cmds:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.monotonic()
        subprocess.run(cmd.split(), check=True, stdout=subprocess.DEVNULL)
        t1 = time.monotonic()
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if i > 0:
            wall[label].append(t1 - t0)
            cpu[label] += (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
for label, _ in cmds:
    print("%s %.1f %.1f %.1f %d" % (label, statistics.median(wall[label]) * 1e3,
          min(wall[label]) * 1e3, cpu[label] / runs * 1e3, runs))
' "$runs" "$TMP/cmds" >>"$out"
    fi
}

bench_load() {
    command -v cmark >/dev/null || { echo "content.sh: cmark is not installed (scripts/deps.sh); load part skipped" >&2; return 0; }
    tree=$TMP/courses
    # shellcheck disable=SC2086
    gen=$(python3 "$ROOT/tests/bench/gen_courses.py" "$tree" $TREE)
    python3 "$ROOT/tests/bench/gen_courses.py" "$TMP/tiny" 1 1 1 >/dev/null
    find "$tree" -name '*.md' | sort >"$TMP/files"
    xargs cat <"$TMP/files" >"$TMP/all.md"
    nfiles=$(wc -l <"$TMP/files")
    if ! "$CAMPUSD" --check "$tree" >"$TMP/check.out" 2>&1; then
        echo "content.sh: campusd --check rejects the generated tree:" >&2
        head -20 "$TMP/check.out" >&2
        return 1
    fi
    echo
    echo "load: generated tree $gen ($nfiles Markdown files: lessons, module.md, course.md)," \
        "campusd --check clean ($(wc -l <"$TMP/check.out") lines of output); $(cmark --version | head -1)"
    echo "  timing with $(command -v hyperfine >/dev/null && hyperfine --version || echo 'python3 (hyperfine is not installed)')," \
        "load: $(cut -d' ' -f1-3 /proc/loadavg)"

    : >"$TMP/load"
    # Paths without blanks: the commands are split on them.
    printf '%s\t%s\n' \
        campusd-load "$CAMPUSD --check $tree" \
        cmark-one-process "cmark $TMP/all.md" \
        campusd-startup "$CAMPUSD --check $TMP/tiny" \
        cmark-startup "cmark /dev/null" |
        time_commands "$LOAD_RUNS" "$LOAD_ROUNDS" "$TMP/load"
    printf '%s\t%s\n' cmark-per-file "xargs -n 1 -a $TMP/files cmark" |
        time_commands "$EACH_RUNS" 1 "$TMP/load"

    awk '
    { wall[$1] = $2; wmin[$1] = $3; cpu[$1] = $4; runs[$1] = $5; order[++n] = $1 }
    END {
        printf "  %-18s %12s %12s %12s %5s\n", "command", "median_ms", "min_ms", "cpu_ms", "runs"
        for (i = 1; i <= n; i++)
            printf "  %-18s %12s %12s %12s %5s\n", order[i], wall[order[i]], wmin[order[i]], cpu[order[i]], runs[order[i]]
        a = wall["campusd-load"]; b = wall["cmark-one-process"]; c = wall["cmark-per-file"]
        printf "  campusd/cmark time, full load vs cmark HTML in one process (the fair one): %s (cpu %s); aim: at most 2\n",
            (b > 0 ? sprintf("%.2f", a / b) : "n/a"),
            (cpu["cmark-one-process"] > 0 ? sprintf("%.2f", cpu["campusd-load"] / cpu["cmark-one-process"]) : "n/a")
        printf "  campusd/cmark time, full load vs one cmark process per file: %s (cpu %s)\n",
            (c > 0 ? sprintf("%.2f", a / c) : "n/a"),
            (cpu["cmark-per-file"] > 0 ? sprintf("%.2f", cpu["campusd-load"] / cpu["cmark-per-file"]) : "n/a")
        if (summary_file != "")
            printf "load of the 1,000-lesson tree vs cmark CLI HTML in one process (time)\t%s ms\t%s ms\t%s\t<= 1.0\n",
                a, b, (b > 0 ? sprintf("%.2f", a / b) : "n/a") >> summary_file
    }' summary_file="${BENCH_SUMMARY:-}" "$TMP/load"
}

# ---- 2. READ: campusd over HTTP and CTP/1 against nginx -------------------

start_servers() {
    w=$1
    CD_PORT=$(free_port)
    CD_HTTP=$(free_port)
    CD_DATA=$TMP/data-$w
    "$CAMPUSD" --bind 127.0.0.1 --text-port "$CD_PORT" --http-port "$CD_HTTP" --tls-port 0 \
        --data "$CD_DATA" --workers "$w" --courses "$ROOT/courses" --log-level warn \
        >"$TMP/campusd-$w.log" 2>&1 &
    CD_PID=$!
    if ! wait_port "$CD_PORT" "$CD_PID" || ! wait_port "$CD_HTTP" "$CD_PID"; then
        cat "$TMP/campusd-$w.log" >&2
        exit 1
    fi
    sleep 0.5                       # let every worker take its share of the ports

    # The bytes campusd answers, saved for nginx to serve: the JSON body of
    # the HTTP route, its gzip form (what campusd sends to a client that
    # takes gzip: nginx's gzip_static serves lesson.json.gz for lesson.json),
    # and the HTML literal of READ over CTP/1.
    www=$TMP/www
    mkdir -p "$www"
    python3 - "$CD_PORT" "$CD_HTTP" "$LESSON" "$www" <<'PY'
import re, socket, sys, urllib.request
port, http, lesson, www = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
course, slug = lesson.split("/")
body = urllib.request.urlopen("http://127.0.0.1:%d/api/lessons/%s/%s" % (http, course, slug)).read()
open(www + "/lesson.json", "wb").write(body)
req = urllib.request.Request("http://127.0.0.1:%d/api/lessons/%s/%s" % (http, course, slug),
                             headers={"Accept-Encoding": "gzip"})
r = urllib.request.urlopen(req)
if r.headers.get("Content-Encoding") != "gzip":
    sys.exit("campusd answered the lesson without gzip to Accept-Encoding: gzip")
open(www + "/lesson.json.gz", "wb").write(r.read())
s = socket.create_connection(("127.0.0.1", port), timeout=10)
f = s.makefile("rb")
f.readline()                                     # greeting
s.sendall(b"READ " + lesson.encode() + b" html\r\n")
head = f.readline()
m = re.match(rb"200 .*\{(\d+)\}\r\n$", head)
if not m:
    sys.exit("READ answered %r" % head)
open(www + "/lesson.html", "wb").write(f.read(int(m.group(1))))
PY
    chmod 755 "$TMP" "$www"         # nginx workers may run as another user
    chmod 644 "$www"/*

    # With more than one worker, nginx's workers each listen on a socket of
    # their own (reuseport), as campusd's do: the kernel's hash splits the
    # connections for both. A second nginx, on one socket that all its
    # workers accept from (nginx's default), is measured beside it and
    # shown, not used in the ratios: whichever worker is awake takes the
    # burst of connects, so its split, and with it its rate on two cores
    # shared with loadgen, changes from one start to the next.
    NG_PORT=$(free_port)
    start_nginx "$w" "$TMP/nginx-$w" "$NG_PORT" "$([ "$w" -gt 1 ] && echo ' reuseport')"
    NG_PID=$STARTED_PID
    NS_PORT=
    NS_PIDS=
    if [ "$w" -gt 1 ]; then
        NS_PORT=$(free_port)
        start_nginx "$w" "$TMP/nginx-shared-$w" "$NS_PORT" ""
        NS_PID=$STARTED_PID
    fi
    sleep 0.3
    CD_PIDS=$(same_program_pids "$CD_PID")
    NG_PIDS=$(same_program_pids "$NG_PID")
    [ -z "$NS_PORT" ] || NS_PIDS=$(same_program_pids "$NS_PID")
}

# start_nginx WORKERS DIR PORT LISTEN_OPTIONS: nginx serving $TMP/www on
# PORT; its pid in STARTED_PID.
start_nginx() {
    ng=$2
    mkdir -p "$ng"
    cat >"$ng/nginx.conf" <<EOF
worker_processes $1;
daemon off;
master_process on;
pid $ng/nginx.pid;
error_log $ng/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $ng/body;
    sendfile on;
    tcp_nodelay on;
    keepalive_timeout 300s;
    keepalive_requests 1000000000;
    open_file_cache max=64 inactive=60s;
    types { text/html html; application/json json; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:$3$4;
        root $TMP/www;
        gzip_static on;
    }
}
EOF
    nginx -p "$ng/" -c "$ng/nginx.conf" -e "$ng/error.log" >"$ng/out.log" 2>&1 &
    STARTED_PID=$!
    wait_port "$3" "$STARTED_PID" || { cat "$ng/out.log" "$ng/error.log" >&2; exit 1; }
}

# The connections each worker of a server holds established, as "a/b/...",
# from the pids bench() takes (the first is the master): how the workers
# split loadgen's connections. "-" for one worker.
conn_split() {
    ss -tnpH state established 2>/dev/null | awk -v pids="$1" '
    BEGIN { n = split(pids, p, ","); for (i = 2; i <= n; i++) c[p[i]] = 0 }
    { for (i = 2; i <= n; i++) if (index($0, "pid=" p[i] ",")) c[p[i]]++ }
    END { s = ""; for (i = 2; i <= n; i++) s = s (i > 2 ? "/" : "") c[p[i]]; print (n > 2 ? s : "-") }'
}

bench() {
    label=$1 port=$2 pids=$3 depth=$4
    shift 4
    "$LOADGEN" --port "$port" --server-pids "$pids" --conns "$CONNS" --depth "$depth" \
        --duration "$DURATION" --warmup "$WARMUP" "$@" >"$TMP/line" 2>>"$TMP/loadgen.err" &
    LG_PID=$!
    sleep "$((WARMUP + 1))"
    conns=$(conn_split "$pids")
    wait "$LG_PID" || true
    LG_PID=
    line=$(cat "$TMP/line")
    [ -n "$line" ] || line="mode=$1 depth=$depth requests=0 rps=0 p50_us=0 p99_us=0 errors=failed"
    line="$line split=$conns"
    echo "$W $label $line" >>"$RESULTS"
    echo "  $label: $line"
}

# The count of gzip answers campusd has sent on its hot path (/metrics,
# summed over the workers).
hot_gzip() {
    python3 - "$1" <<'PY'
import re, sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1]).read().decode()
m = re.search(r'^campus_http_hot_path_total\{encoding="gzip"\} (\d+)$', text, re.M)
print(m.group(1) if m else 0)
PY
}

bench_read() {
    command -v nginx >/dev/null || { echo "content.sh: nginx is not installed (scripts/deps.sh bench); READ part skipped" >&2; return 0; }
    RESULTS=$TMP/results
    : >"$RESULTS"
    course=${LESSON%%/*} slug=${LESSON#*/}
    echo
    echo "read: $LESSON, $(nginx -v 2>&1 | sed 's/.*: //'), conns=$CONNS," \
        "${DURATION}s per figure after ${WARMUP}s warm-up, load: $(cut -d' ' -f1-3 /proc/loadavg)"
    for W in $WORKERS; do
        start_servers "$W"
        echo "workers=$W: campusd CTP/1 on $CD_PORT and HTTP on $CD_HTTP, nginx on $NG_PORT;" \
            "JSON $(wc -c <"$TMP/www/lesson.json") bytes ($(wc -c <"$TMP/www/lesson.json.gz") gzip)," \
            "HTML $(wc -c <"$TMP/www/lesson.html") bytes"
        # Interleaved rounds, as run.sh takes its own: each ratio is the
        # median of the rounds' ratios, so a slow spell of the host that
        # falls on one side of one round moves one ratio, not the figure.
        for R in $(seq "$ROUNDS"); do
        for D in $DEPTHS; do
            bench campusd-http "$CD_HTTP" "$CD_PIDS" "$D" http-get "/api/lessons/$course/$slug"
            bench nginx-json "$NG_PORT" "$NG_PIDS" "$D" http-get /lesson.json
            [ -z "$NS_PORT" ] || bench nginx-json-shared "$NS_PORT" "$NS_PIDS" "$D" http-get /lesson.json
            bench campusd-ctp "$CD_PORT" "$CD_PIDS" "$D" ctp-read "$LESSON" html
            bench nginx-html "$NG_PORT" "$NG_PIDS" "$D" http-get /lesson.html
            # gzip: both asked with Accept-Encoding, and an answer without
            # Content-Encoding: gzip counts as an error. The hot-path counter
            # of /metrics shows that campusd's answers took the hot path.
            hot0=$(hot_gzip "$CD_HTTP")
            bench campusd-gzip "$CD_HTTP" "$CD_PIDS" "$D" http-get "/api/lessons/$course/$slug" \
                --header 'Accept-Encoding: gzip' --expect-header 'Content-Encoding: gzip'
            hot1=$(hot_gzip "$CD_HTTP")
            echo "$W hot-gzip depth=$D hot=$((hot1 - hot0))" >>"$RESULTS"
            echo "  campusd gzip answers on the hot path during that run: $((hot1 - hot0))" \
                "(counted over every worker, warm-up included)"
            bench nginx-gzip "$NG_PORT" "$NG_PIDS" "$D" http-get /lesson.json \
                --header 'Accept-Encoding: gzip' --expect-header 'Content-Encoding: gzip'
        done
        done
        stop_servers
    done
    if [ -s "$TMP/loadgen.err" ]; then
        echo "loadgen reported (first lines):"
        sort "$TMP/loadgen.err" | uniq -c | head -5
    fi
    echo
    awk "$(cat "$ROOT/tests/bench/rounds.awk")"'
    function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "n/a" }
    # The ratio of figure a over b: the median of the ratios taken in each
    # round, which are listed in rounds[a].
    function rratio(a, b,    i, r, s) {
        s = ""
        for (i = 1; i <= nr[a] && i <= nr[b]; i++) {
            r[a, i] = seq[b, i] > 0 ? seq[a, i] / seq[b, i] : 0
            s = s (i > 1 ? " " : "") sprintf("%.2f", r[a, i])
        }
        rounds[a] = s
        rc[a] = i - 1
        return rc[a] > 0 ? sprintf("%.2f", median(r, rc, a)) : "n/a"
    }
    {
        w = $1; label = $2; line = $0
        d = field(line, "depth")
        k = w SUBSEP d SUBSEP label
        if (label == "hot-gzip") { hot[w SUBSEP d] = field(line, "hot"); next }
        nr[k]++
        seq[k, nr[k]] = field(line, "rps")
        vr[k, nr[k]] = field(line, "rps"); vc[k, nr[k]] = field(line, "server_cpu_us")
        p50[k] = field(line, "p50_us")
        p99[k] = field(line, "p99_us"); err[k] += field(line, "errors"); all[k] = line
        sp[k] = (sp[k] == "" ? "" : sp[k] " ") field(line, "split")
        if (!(w SUBSEP d in seen)) { seen[w SUBSEP d] = 1; order[++n] = w SUBSEP d }
    }
    END {
        for (k in nr) {
            rps[k] = median(vr, nr, k)
            cpu[k] = median(vc, nr, k)
        }
        name["campusd-http"] = "campusd HTTP GET (JSON)"
        name["nginx-json"] = "nginx same JSON, static"
        name["campusd-ctp"] = "campusd CTP/1 READ html"
        name["nginx-html"] = "nginx same HTML, static"
        name["campusd-gzip"] = "campusd HTTP GET gzip"
        name["nginx-gzip"] = "nginx same gzip, static"
        name["nginx-json-shared"] = "nginx JSON, one socket"
        nl = split("campusd-http nginx-json nginx-json-shared campusd-ctp nginx-html campusd-gzip nginx-gzip", labels, " ")
        printf "%-7s %-5s %-26s %9s %10s %10s %7s %14s  %s\n", "workers", "depth", "test", "rps", "p50_us", "p99_us", "errors", "srv_cpu_us/req", "conns/worker"
        for (i = 1; i <= n; i++) {
            split(order[i], wd, SUBSEP)
            for (j = 1; j <= nl; j++) {
                k = order[i] SUBSEP labels[j]
                if (!(k in nr))
                    continue
                printf "%-7s %-5s %-26s %9s %10s %10s %7s %14s  %s\n", wd[1], wd[2], name[labels[j]], rps[k], p50[k], p99[k], err[k], cpu[k], sp[k]
            }
            h = order[i] SUBSEP "campusd-http"; nj = order[i] SUBSEP "nginx-json"
            c = order[i] SUBSEP "campusd-ctp"; nh = order[i] SUBSEP "nginx-html"
            g = order[i] SUBSEP "campusd-gzip"; ng = order[i] SUBSEP "nginx-gzip"
            rh = rratio(h, nj); rct = rratio(c, nh); rg = rratio(g, ng)
            printf "        campusd/nginx rps, median of the ratios of the rounds: HTTP = %s (%s), CTP/1 READ = %s (%s), gzip = %s (%s)\n",
                rh, rounds[h], rct, rounds[c], rg, rounds[g]
            printf "        nginx/campusd CPU per request: HTTP = %s, CTP/1 READ = %s, gzip = %s\n",
                ratio(cpu[nj], cpu[h]), ratio(cpu[nh], cpu[c]), ratio(cpu[ng], cpu[g])
            ns = order[i] SUBSEP "nginx-json-shared"
            if (ns in nr)
                printf "        campusd/nginx HTTP rps against nginx on one shared socket (shown, not a figure): %s (%s)\n",
                    rratio(h, ns), rounds[h]
            printf "        campusd gzip answers on the hot path in the last round: %s (it answered %s, warm-up aside)\n\n",
                hot[order[i]], field(all[g], "requests")
            if (summary_file != "" && wd[2] == 1) {
                printf "HTTP READ (JSON) vs nginx same bytes, %d worker(s)\t%s rps\t%s rps\t%s\t>= 1.0\n",
                    wd[1], rps[h], rps[nj], rh >> summary_file
                if (wd[1] == 1)
                    printf "HTTP READ gzip vs nginx gzip_static, 1 worker\t%s rps\t%s rps\t%s\t>= 1.0\n",
                        rps[g], rps[ng], rg >> summary_file
            }
        }
    }' summary_file="${BENCH_SUMMARY:-}" "$RESULTS"
}

for part in $PARTS; do
    case $part in
        load) bench_load ;;
        read) bench_read ;;
        *) echo "content.sh: unknown part '$part' (load, read)" >&2; exit 2 ;;
    esac
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
