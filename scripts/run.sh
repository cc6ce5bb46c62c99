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

cat <<MSG

  Campus is starting.
    text protocol   telnet 127.0.0.1 $TEXT_PORT      (CTP/1; type HELP)
    TLS             openssl s_client -quiet -connect 127.0.0.1:$TLS_PORT
    web             http://127.0.0.1:$HTTP_PORT/
    data            $DATA/ (embedded Redis, AOF on)
  Stop with Ctrl-C.

MSG
exec "$CAMPUSD" --courses courses --data "$DATA" --web clients/web \
    --text-port "$TEXT_PORT" --tls-port "$TLS_PORT" --http-port "$HTTP_PORT"
