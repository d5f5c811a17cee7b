#!/usr/bin/env bash
# Runs the whole test suite on both backends:
#   1. SQLite + in-process event bus (no services needed for the database and bus;
#      the event-bus tests that cross instances still use Redis),
#   2. PostgreSQL + Redis.
# Fails, never skips, when PostgreSQL or Redis is unreachable.
#
# Override the services with ZYGO_TEST_PG_URL (an admin URL; each test creates its own
# database there) and ZYGO_TEST_REDIS (a redis:// URL).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_URL="${ZYGO_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
REDIS_URL="${ZYGO_TEST_REDIS:-redis://127.0.0.1:6379}"

check_tcp() { # name url
  local hostport host port
  hostport="${2#*://}"; hostport="${hostport#*@}"; hostport="${hostport%%/*}"
  host="${hostport%%:*}"; port="${hostport##*:}"
  if ! (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then
    echo "test.sh: $1 is not reachable at $host:$port — start it (see README) and run again" >&2
    exit 1
  fi
}
check_tcp PostgreSQL "$PG_URL"
check_tcp Redis "$REDIS_URL"

# Real third-party clients used by the tests: the official graphql-ws client, and Debian's
# Chromium driven by playwright-core for the GraphiQL check and the web app's journey.
npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error
npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
# The web app: typed operations regenerated from graphql/ against schema/schema.graphql and
# type-checked (drift between them fails here), built for the end-to-end test, and its
# component tests.
npm ci --prefix frontend --no-audit --no-fund --loglevel=error
echo "== frontend: build and component tests"
npm run build --prefix frontend --silent
npm test --prefix frontend --silent
# moto's S3 server, the object store the resource tests run against (they fail without it).
if ! command -v moto_server >/dev/null; then
  echo "test.sh: installing moto's S3 server for the resource tests" >&2
  pip install --quiet 'moto[server]'
fi
if ! command -v chromium >/dev/null; then
  echo "test.sh: installing Debian's chromium for the browser tests" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

export RUST_BACKTRACE=0
echo "== SQLite + in-process bus"
ZYGO_TEST_CROSS_INSTANCE_REDIS_URL="$REDIS_URL" cargo test --locked --all-targets -- --test-threads=4
echo "== PostgreSQL + Redis"
ZYGO_TEST_DATABASE_URL="$PG_URL" ZYGO_TEST_REDIS_URL="$REDIS_URL" ZYGO_TEST_CROSS_INSTANCE_REDIS_URL="$REDIS_URL" cargo test --locked --all-targets -- --test-threads=4
