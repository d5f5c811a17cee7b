#!/usr/bin/env bash
# Presence benchmark (issue 18): how fast a participant's cursor move reaches the other
# participants of a document, and what an idle participant costs the server.
#
#   bash benches/ws/presence.sh
#
# 1. Latency: two instances of Zygo on one PostgreSQL database and Redis. A document of
#    BENCH_PARTICIPANTS (default 50) participants, each its own graphql-transport-ws
#    connection subscribed to `documentPresence`; BENCH_UPDATES (default 200) moves, one at a
#    time, sent as `updatePresence` on the mover's own socket, each timed from its sending to
#    its arrival at every other participant: p50/p99/max, with everyone on one instance and
#    with the receivers on the other instance (the move crossing Redis).
# 2. Memory: a third instance on the same database without Redis (presence and events in its
#    own memory, so the entries count too); its RSS before and after BENCH_IDLE (default 2000)
#    idle participants (documents of BENCH_IDLE_PER_DOCUMENT, default 50), and the difference
#    per participant. Set BENCH_LATENCY=0 to run only this part.
#
# Uses target/release/zygo (cargo build --release; ZYGO_BIN overrides, e.g. target/debug/zygo
# for a quick check at small scale), node, PostgreSQL (BENCH_PG, default
# postgres://postgres@127.0.0.1:5432) and Redis (BENCH_REDIS, default redis://127.0.0.1:6379).
set -euo pipefail
cd "$(dirname "$0")/../.."
PARTICIPANTS="${BENCH_PARTICIPANTS:-50}"; UPDATES="${BENCH_UPDATES:-200}"; IDLE="${BENCH_IDLE:-2000}"
PER_DOC="${BENCH_IDLE_PER_DOCUMENT:-50}"
PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"; REDIS="${BENCH_REDIS:-redis://127.0.0.1:6379}"
BIN="${ZYGO_BIN:-target/release/zygo}"
[ -x "$BIN" ] || { echo "build Zygo first: cargo build --release" >&2; exit 1; }
[ -d tests/clients/node_modules/ws ] || npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

DB="zygo_presence_$$"; WORK=$(mktemp -d); PIDS=(); PREFIX="zygo-presence-bench-$$"
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
A=$((20000 + RANDOM % 10000)); B=$((A + 1)); C=$((A + 2))
start() { # port redis-url|""
  env ZYGO_DATABASE_URL="$PG/$DB" ${2:+ZYGO_REDIS_URL="$2"} ZYGO_REDIS_PREFIX="$PREFIX" ZYGO_LISTEN="127.0.0.1:$1" \
    ZYGO_DATA_DIR="$WORK/data-$1" ZYGO_JWT_SECRET="presence-benchmark-signing-secret-of-all-instances" \
    ZYGO_WORKFLOW_WORKERS=0 ZYGO_LOG=error ZYGO_RATE_LIMIT_PER_MINUTE=100000000 \
    ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE=100000000 ZYGO_WS_MAX_SUBSCRIPTIONS=10000 \
    "$BIN" >"$WORK/zygo-$1.log" 2>&1 & PIDS+=($!)
  for _ in $(seq 1 150); do curl -sf "127.0.0.1:$1/readyz" >/dev/null && return; sleep 0.2; done
  cat "$WORK/zygo-$1.log" >&2; exit 1; }
start "$A" "$REDIS"; start "$B" "$REDIS" # one after the other: the first runs the migrations
ZP=$A # the helpers talk to the first instance
source benches/owner.sh
owner_with_organisation Presence presence

[ "${BENCH_LATENCY:-1}" = 0 ] || echo "presence ($BIN): $PARTICIPANTS participants in one document, $UPDATES moves"
for where in one two; do
  [ "${BENCH_LATENCY:-1}" = 0 ] && break
  other=-; [ "$where" = two ] && other="ws://127.0.0.1:$B/graphql/ws"
  out=$(node benches/ws/presence.mjs latency "ws://127.0.0.1:$A/graphql/ws" "$other" "http://127.0.0.1:$A/graphql" \
    "$TOKEN" "$TENANT" "$PARTICIPANTS" "$UPDATES")
  read -r _ n updates samples p50 p99 max <<<"$(grep '^RESULT' <<<"$out")"
  label="one instance"; [ "$where" = two ] && label="across two instances (Redis)"
  printf '  move → others, %-30s p50 %6s ms  p99 %6s ms  max %6s ms  (%s deliveries)\n' "$label:" "$p50" "$p99" "$max" "$samples"
done

start "$C" ""
server=${PIDS[-1]}
before=$(awk '/VmRSS/{print $2}' "/proc/$server/status")
mkfifo "$WORK/hold"
# The documents are made through A (same database), so C's figure is only the participants'.
node benches/ws/presence.mjs idle "ws://127.0.0.1:$C/graphql/ws" "http://127.0.0.1:$A/graphql" "$TOKEN" "$TENANT" "$IDLE" "$PER_DOC" \
  <"$WORK/hold" >"$WORK/idle.out" 2>&1 & PIDS+=($!)
exec 3>"$WORK/hold"
for _ in $(seq 1 1500); do grep -q PRESENT "$WORK/idle.out" && break; sleep 0.2; done
grep -q PRESENT "$WORK/idle.out" || { cat "$WORK/idle.out" >&2; exit 1; }
sleep 1 # let the last sockets' tasks settle
after=$(awk '/VmRSS/{print $2}' "/proc/$server/status")
echo "  $IDLE idle participants, $PER_DOC per document (connection + subscription + presence entry, one instance, no Redis):" \
  "RSS ${before} KiB -> ${after} KiB, $(( (after - before) / IDLE )) KiB each"
exec 3>&-
