#!/bin/sh
# same_catalogue.sh OLD_BUILD NEW_BUILD: loads the bundled courses, every
# fixture tree and the generated bench tree with the catalog_dump and
# campusd --check of two builds (say, a Release build of main and one of a
# branch) and reports any difference. A change to the loader must keep the
# catalogue byte-identical: renderings, views, search answers, diagnostics.
# Exit status 0 when all are the same, 1 when one differs.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OLD=$(cd "$1" && pwd)
NEW=$(cd "$2" && pwd)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/campus-same.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
python3 "$ROOT/tests/bench/gen_courses.py" "$TMP/bench-tree" 10 5 20 600 >/dev/null
rc=0
for tree in "$ROOT/courses" "$ROOT"/tests/fixtures/courses-* "$TMP/bench-tree"; do
    name=$(basename "$tree")
    for b in old new; do
        [ "$b" = old ] && dir=$OLD || dir=$NEW
        "$dir/tests/bench/catalog_dump" "$tree" >"$TMP/$name.$b.dump"
        "$dir/daemon/campusd" --check "$tree" >"$TMP/$name.$b.check" 2>&1 || true
    done
    for kind in dump check; do
        if cmp -s "$TMP/$name.old.$kind" "$TMP/$name.new.$kind"; then
            echo "same: $name ($kind, $(wc -c <"$TMP/$name.new.$kind") bytes)"
        else
            echo "DIFFERENT: $name ($kind):"
            diff "$TMP/$name.old.$kind" "$TMP/$name.new.$kind" | head -20
            rc=1
        fi
    done
done
exit $rc
