#!/usr/bin/env bash
# Fan-out latency of subscriptions: one organisation event (a rename) delivered to N
# `tenantEvents` subscribers, timed from the mutation's sending to each subscriber's
# receipt, p50/p99/max over BENCH_EVENTS events. Two instances of Zygo share one PostgreSQL
# database and Redis; each N is run with the subscribers on the instance that takes the
# mutation ("one instance") and on the other one ("across two", the event crossing Redis).
#
#   bash benches/ws/fan-out.sh [N ...]      (default: 1000 5000; BENCH_EVENTS, default 20)
#
# Needs target/release/zygo (cargo build --release), node, PostgreSQL (BENCH_PG, default
# postgres://postgres@127.0.0.1:5432) and Redis (BENCH_REDIS).
set -euo pipefail
cd "$(dirname "$0")/../.."
EVENTS="${BENCH_EVENTS:-20}"
PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"; REDIS="${BENCH_REDIS:-redis://127.0.0.1:6379}"
BIN="${ZYGO_BIN:-target/release/zygo}"
[ -x "$BIN" ] || { echo "build Zygo first: cargo build --release" >&2; exit 1; }
[ -d tests/clients/node_modules/ws ] || npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

DB="zygo_fanout_$$"; WORK=$(mktemp -d); PIDS=()
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
A=$((20000 + RANDOM % 10000)); B=$((A + 1))
start() { # port
  ZYGO_DATABASE_URL="$PG/$DB" ZYGO_REDIS_URL="$REDIS" ZYGO_LISTEN="127.0.0.1:$1" ZYGO_DATA_DIR="$WORK/data-$1" \
    ZYGO_JWT_SECRET="fan-out-benchmark-signing-secret-of-both-instances" \
    ZYGO_WORKFLOW_WORKERS=0 ZYGO_LOG=error ZYGO_RATE_LIMIT_PER_MINUTE=100000000 \
    ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE=100000000 "$BIN" >"$WORK/zygo-$1.log" 2>&1 & PIDS+=($!)
  for _ in $(seq 1 150); do curl -sf "127.0.0.1:$1/readyz" >/dev/null && return; sleep 0.2; done
  cat "$WORK/zygo-$1.log" >&2; exit 1; }
start "$A"; start "$B" # one after the other: the first runs the migrations
ZP=$A # the helpers talk to the first instance
source benches/owner.sh
owner_with_organisation Fan-out fan-out

for N in "${@:-1000 5000}"; do
  for where in one two; do
    sub=$A; [ "$where" = two ] && sub=$B
    out=$(node benches/ws/fan-out.mjs "ws://127.0.0.1:$sub/graphql/ws" "http://127.0.0.1:$A/graphql" "$TOKEN" "$TENANT" "$N" "$EVENTS")
    read -r _ n events p50 p99 max <<<"$(grep '^RESULT' <<<"$out")"
    label="one instance"; [ "$where" = two ] && label="across two instances (Redis)"
    printf '%5d subscribers, %-30s p50 %7s ms  p99 %7s ms  max %7s ms  (%s events)\n' "$n" "$label:" "$p50" "$p99" "$max" "$events"
  done
done
