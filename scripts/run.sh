#!/bin/sh
# make run: starts campusd in the foreground with the bundled courses and its
# own Redis (data in var/, AOF on). Ctrl-C stops both.
set -eu
BUILD=${1:-build-run}
DATA=${2:-var}
CAMPUSD="$BUILD/daemon/campusd"
TEXT_PORT=${TEXT_PORT:-7070}
TLS_PORT=${TLS_PORT:-7071}
HTTP_PORT=${HTTP_PORT:-8080}

mkdir -p "$DATA"
"$CAMPUSD" --check courses >/dev/null || {
    echo "run: the bundled courses have errors:" >&2
    "$CAMPUSD" --check courses >&2
    exit 1
}

# Demo accounts, made once: their passwords are kept in $DATA/demo-accounts
# (mode 0600) and printed at every start.
DEMO="$DATA/demo-accounts"
if [ ! -f "$DEMO" ]; then
    umask 077
    : > "$DEMO.tmp"
    for who in demo-learner:learner demo-trainer:trainer; do
        name=${who%%:*}
        role=${who##*:}
        pw=$(openssl rand -base64 12 | tr -d '/+=' | cut -c1-14)
        printf '%s\n' "$pw" | "$CAMPUSD" --data "$DATA" --courses courses --add-user "$name" --role "$role" >/dev/null
        printf '%s %s %s\n' "$name" "$role" "$pw" >> "$DEMO.tmp"
    done
    mv "$DEMO.tmp" "$DEMO"
fi

cat <<MSG

  Campus is starting.
    text protocol   telnet 127.0.0.1 $TEXT_PORT      (CTP/1; type HELP)
    TLS             openssl s_client -quiet -connect 127.0.0.1:$TLS_PORT
    web             http://127.0.0.1:$HTTP_PORT/
    data            $DATA/ (embedded Redis, AOF on)
    demo logins     $(awk '{printf "%s / %s (%s)   ", $1, $3, $2}' "$DEMO")
    terminal client $BUILD/clients/terminal/campus --server 127.0.0.1:$TEXT_PORT login demo-learner
  Stop with Ctrl-C.

MSG
exec "$CAMPUSD" --courses courses --data "$DATA" --web clients/web \
    --text-port "$TEXT_PORT" --tls-port "$TLS_PORT" --http-port "$HTTP_PORT"
