#!/usr/bin/env bash
# Starts Zygo on the embedded default (SQLite file, in-process bus, mail to files under ./data)
# with the web app at http://127.0.0.1:8080/ — building the app first when it is missing or
# older than its sources. Extra arguments go to `zygo` (e.g. `bash scripts/start.sh migrate`).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d frontend/node_modules ] || [ frontend/package-lock.json -nt frontend/node_modules ]; then
  npm ci --prefix frontend --no-audit --no-fund --loglevel=error
  touch frontend/node_modules
fi
if [ ! -f frontend/dist/index.html ] ||
  [ -n "$(find frontend/src frontend/index.html frontend/package.json graphql schema -newer frontend/dist/index.html -print -quit)" ]; then
  npm run build --prefix frontend --silent
fi
exec cargo run --release -- "$@"
