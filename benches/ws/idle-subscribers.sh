#!/usr/bin/env bash
# Memory per idle GraphQL WebSocket connection: starts Zygo (fresh data directory, no workflow
# workers), reads its RSS, opens N graphql-transport-ws connections from a separate Node
# process (so the clients' memory is not counted), waits for every connection_ack, and reads
# the RSS again.
#
#   bash benches/ws/idle-subscribers.sh [N ...]     (default: 1000 5000)
#
# BENCH_SUBSCRIBE=1 also measures idle subscriptions: on a fresh PostgreSQL database
# (BENCH_PG, default postgres://postgres@127.0.0.1:5432; in-process event bus, no Redis) an
# owner founds an organisation, then each of the N connections authenticates with the
# owner's token and subscribes to `tenantEvents { kind }`; the RSS is read once the server's
# `zygo_subscriptions_active` gauge shows all N. Each N is then measured bare (no token, no
# subscription, as without BENCH_SUBSCRIBE) and subscribed, each on a fresh server process.
#
# Uses target/release/zygo when it exists (ZYGO_BIN overrides), else target/debug/zygo.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${ZYGO_BIN:-$( [ -x target/release/zygo ] && echo target/release/zygo || echo target/debug/zygo )}"
[ -x "$BIN" ] || { echo "build Zygo first (cargo build --release)" >&2; exit 1; }
[ -d tests/clients/node_modules/ws ] || npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
SUBSCRIBE="${BENCH_SUBSCRIBE:-0}"
PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
DB="zygo_idle_$$"; PIDS=()
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true
  [ "$SUBSCRIBE" = 1 ] && psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT
[ "$SUBSCRIBE" = 1 ] && psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null

start() { # dir port → $server
  env ${DB_URL:+ZYGO_DATABASE_URL="$DB_URL"} ZYGO_DATA_DIR="$1" ZYGO_LISTEN="127.0.0.1:$2" ZYGO_LOG=error \
    ZYGO_WORKFLOW_WORKERS=0 ZYGO_JWT_SECRET="idle-subscribers-benchmark-signing-secret" \
    ZYGO_RATE_LIMIT_PER_MINUTE=100000000 ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE=100000000 \
    "$BIN" >"$1/log" 2>&1 &
  server=$!; PIDS+=($server)
  for _ in $(seq 1 150); do curl -sf "127.0.0.1:$2/readyz" >/dev/null && return; sleep 0.2; done
  cat "$1/log" >&2; exit 1; }

TOKEN=""; TENANT=""
if [ "$SUBSCRIBE" = 1 ]; then
  DB_URL="$PG/$DB"; dir=$(mktemp -d); ZP=$((20000 + RANDOM % 20000))
  start "$dir" "$ZP"
  source benches/owner.sh
  owner_with_organisation Idle idle
  kill "$server"; wait "$server" 2>/dev/null || true; rm -rf "$dir"
fi

measure() { # N mode(bare|subscribed)
  local N=$1 mode=$2 dir port before after tok="" ten=""
  dir=$(mktemp -d); port=$((20000 + RANDOM % 20000))
  start "$dir" "$port"
  [ "$mode" = subscribed ] && { tok=$TOKEN; ten=$TENANT; }
  before=$(awk '/VmRSS/{print $2}' "/proc/$server/status")
  mkfifo "$dir/hold"
  node benches/ws/idle-subscribers.mjs "ws://127.0.0.1:$port/graphql/ws" "$N" $tok $ten <"$dir/hold" >"$dir/out" 2>&1 &
  clients=$!; PIDS+=($clients)
  exec 3>"$dir/hold"
  for _ in $(seq 1 600); do grep -q ACKED "$dir/out" && break; sleep 0.2; done
  grep -q ACKED "$dir/out" || { cat "$dir/out" >&2; exit 1; }
  if [ "$mode" = subscribed ]; then
    for _ in $(seq 1 600); do
      active=$(curl -sf "127.0.0.1:$port/metrics" | awk '/^zygo_subscriptions_active /{print $2}')
      [ "${active:-0}" -ge "$N" ] && break; sleep 0.2
    done
    [ "${active:-0}" -ge "$N" ] || { echo "only ${active:-0} of $N subscriptions started" >&2; cat "$dir/out" >&2; exit 1; }
  fi
  sleep 1 # let the last sockets' tasks settle
  after=$(awk '/VmRSS/{print $2}' "/proc/$server/status")
  echo "$N idle $mode connections ($BIN): RSS ${before} KiB -> ${after} KiB, $(( (after - before) / N )) KiB each"
  exec 3>&-
  kill "$server" "$clients" 2>/dev/null || true
  wait "$server" "$clients" 2>/dev/null || true
  rm -rf "$dir"
}

for N in ${@:-1000 5000}; do
  measure "$N" bare
  [ "$SUBSCRIBE" = 1 ] && measure "$N" subscribed
done
