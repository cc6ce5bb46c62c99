#!/bin/sh
# smoke.sh: the load generator against a real campusd, briefly: it must count
# well-formed answers as requests and wrong ones as errors. No timing checks.
#
#   sh tests/bench/smoke.sh CAMPUSD LOADGEN SOURCE_DIR     (ctest bench/loadgen_smoke)
set -eu

CAMPUSD=$1
LOADGEN=$2
SOURCE=$3
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$SOURCE/tests/bench/lib.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/campus-smoke.XXXXXX")
PID=
failures=0
cleanup() {
    stop_pid "$PID"
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$(free_port)
"$CAMPUSD" --bind 127.0.0.1 --text-port "$PORT" --tls-port 0 --http-port 0 \
    --data "$TMP/data" --workers 1 --courses "$SOURCE/courses" --log-level warn \
    >"$TMP/campusd.log" 2>&1 &
PID=$!
wait_port "$PORT" "$PID" || { cat "$TMP/campusd.log" >&2; exit 1; }

# check NAME STATUS EXPECT LOADGEN-ARGS...: loadgen must exit with STATUS,
# and EXPECT is "answered" (requests, no errors), "wrong" (errors, no
# requests), "paced" (answered, and 200 a second asked for 1 s sent
# between 100 and 260: not a figure, only that --rate sends at about the
# rate asked and not as fast as it can) or "-" (the exit status is enough).
check() {
    name=$1 want_rc=$2 expect=$3
    shift 3
    rc=0
    line=$("$LOADGEN" --port "$PORT" "$@" 2>"$TMP/err") || rc=$?
    requests=$(field "$line" requests)
    errors=$(field "$line" errors)
    ok=true
    [ "$rc" -eq "$want_rc" ] || ok=false
    case $expect in
        answered) [ "${requests:-0}" -gt 0 ] && [ "$errors" = 0 ] || ok=false ;;
        wrong) [ "$requests" = 0 ] && [ "${errors:-0}" -gt 0 ] || ok=false ;;
        paced) [ "${requests:-0}" -ge 100 ] && [ "${requests:-0}" -le 260 ] && [ "$errors" = 0 ] || ok=false ;;
    esac
    if $ok; then
        echo "ok   $name: $line"
    else
        echo "FAIL $name: exit $rc (want $want_rc), want $expect: $line"
        sed 's/^/     /' "$TMP/err"
        failures=$((failures + 1))
    fi
}

check "PING answers are counted" 0 answered \
    --conns 4 --depth 4 --duration 1 --warmup 0.2 ctp-ping
check "ECHO bodies are read whole and compared" 0 answered \
    --conns 4 --depth 8 --duration 1 --warmup 0.2 ctp-echo 20000
check "a literal over the server's limit counts as errors" 1 wrong \
    --conns 1 --depth 1 --duration 0.5 --warmup 0 ctp-echo 2000000
check "READ answers are counted" 0 answered \
    --conns 4 --depth 4 --duration 1 --warmup 0.2 ctp-read cluster-development/what-is-a-cluster html
check "READ of a missing lesson counts as errors" 1 wrong \
    --conns 2 --depth 1 --duration 0.5 --warmup 0 ctp-read cluster-development/no-such-lesson html
check "ctp-read without its format is refused" 2 - ctp-read cluster-development/what-is-a-cluster
check "ctp-done with a token the server does not know counts as errors" 1 wrong \
    --conns 2 --depth 1 --duration 0.5 --warmup 0 ctp-done nobody.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA demo/welcome
check "ctp-done without its lesson is refused" 2 - ctp-done nobody.x
check "memcached mode refuses a server that does not store" 1 - --duration 0.5 mc-get 16
check "READ at a fixed rate sends at that rate" 0 paced \
    --conns 4 --rate 200 --duration 1 --warmup 0.2 ctp-read cluster-development/what-is-a-cluster html
check "a rate with more than one request in flight is refused" 2 - --rate 100 --depth 2 ctp-ping
check "a bad depth is refused" 2 - --depth 0 ctp-ping
check "a mode without its argument is refused" 2 - ctp-echo

if ! kill -0 "$PID" 2>/dev/null; then
    echo "FAIL campusd exited during the smoke test"
    failures=$((failures + 1))
fi
echo "$failures failed"
[ "$failures" -eq 0 ]
