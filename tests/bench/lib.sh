# lib.sh: shell helpers shared by run.sh, content.sh and smoke.sh (sourced, not run):
# free loopback ports, waiting for a server to listen, stopping what we started,
# finding a server's worker processes.
# shellcheck shell=sh

# Prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until 127.0.0.1:$1 accepts connections while process $2 lives.
# Returns non-zero if the process exits or 30 s pass.
wait_port() {
    python3 - "$1" "$2" <<'PY'
import os, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
end = time.time() + 30
while time.time() < end:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("the server exited during start-up")
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit("the server did not listen within 30 s")
PY
}

# Stops a process we started: TERM, up to 15 s, then KILL.
stop_pid() {
    [ -n "$1" ] || return 0
    kill -TERM "$1" 2>/dev/null || return 0
    _i=0
    while kill -0 "$1" 2>/dev/null && [ $_i -lt 150 ]; do
        sleep 0.1
        _i=$((_i + 1))
    done
    kill -KILL "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

# PID and those of its children that run the same program (campusd's
# workers, not its embedded redis-server; nginx's workers), comma-separated.
same_program_pids() {
    _list=$1
    _name=$(cat "/proc/$1/comm" 2>/dev/null || true)
    # shellcheck disable=SC2013
    for _child in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
        [ "$(cat "/proc/$_child/comm" 2>/dev/null || true)" = "$_name" ] && _list="$_list,$_child"
    done
    echo "$_list"
}

# Prints the value of KEY in a "key=value key=value" line.
field() {
    printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1
}

# Stops the campusd of $CD_PID (data dir $CD_DATA). campusd stops its embedded
# redis-server itself; if it could not, the socket is still there and this
# does it.
stop_campusd() {
    stop_pid "$CD_PID"
    CD_PID=
    if [ -n "$CD_DATA" ] && [ -S "$CD_DATA/redis.sock" ] && command -v redis-cli >/dev/null; then
        redis-cli -s "$CD_DATA/redis.sock" shutdown nosave >/dev/null 2>&1 || true
    fi
    CD_DATA=
}
