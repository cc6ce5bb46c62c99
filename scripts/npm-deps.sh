#!/bin/sh
# Installs the npm packages the tests use (tests/web: playwright-core for the
# web client in Chromium, jose and ajv for checking certificates), with
# `npm ci` from the lock file, and only when one of them is missing, so a warm
# machine pays nothing. Run before the tests start: several test files use
# these packages, and they may run at the same time.
set -eu

dir="$(cd "$(dirname "$0")/../tests/web" && pwd)"
deps="$(node -e 'const p = require(process.argv[1]); console.log(Object.keys(p.dependencies || {}).join(" "))' "$dir/package.json")"
missing=""
for p in $deps; do
  [ -f "$dir/node_modules/$p/package.json" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "npm-deps: installing$missing"
cd "$dir" && npm ci --no-audit --no-fund
