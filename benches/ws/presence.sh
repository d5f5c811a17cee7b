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
#    own memory, so the entries count too): BENCH_IDLE_WARMUP (default 200) idle participants
#    first (what an instance grows once whatever its load: its database connections, thread
#    heaps, caches), then twice BENCH_IDLE (default 2000) more (documents of
#    BENCH_IDLE_PER_DOCUMENT, default 50); what each of the last batch adds to its RSS (the
#    first may still reuse memory the warm-up freed), and the figures counted from earlier. Set BENCH_LATENCY=0 to run only this part.
#
# Uses target/release/zygo (cargo build --release; ZYGO_BIN overrides, e.g. target/debug/zygo
# for a quick check at small scale), node, PostgreSQL (BENCH_PG, default
# postgres://postgres@127.0.0.1:5432) and Redis (BENCH_REDIS, default redis://127.0.0.1:6379).
set -euo pipefail
cd "$(dirname "$0")/../.."
PARTICIPANTS="${BENCH_PARTICIPANTS:-50}"; UPDATES="${BENCH_UPDATES:-200}"; IDLE="${BENCH_IDLE:-2000}"
PER_DOC="${BENCH_IDLE_PER_DOCUMENT:-50}"; WARM="${BENCH_IDLE_WARMUP:-200}"
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
rss() { awk '/VmRSS/{print $2}' "/proc/$server/status"; }
per() { awk -v kib="$1" -v n="$2" 'BEGIN { printf "%.1f", kib / n }'; } # KiB, count
# idle <name> <participants>: that many idle participants on C, held open until the end.
idle() {
  mkfifo "$WORK/hold-$1"
  # The documents are made through A (same database), so C's figure is only the participants'.
  node benches/ws/presence.mjs idle "ws://127.0.0.1:$C/graphql/ws" "http://127.0.0.1:$A/graphql" "$TOKEN" "$TENANT" "$2" "$PER_DOC" \
    <"$WORK/hold-$1" >"$WORK/idle-$1.out" 2>&1 & PIDS+=($!)
  eval "exec $3>\"$WORK/hold-$1\""
  for _ in $(seq 1 1500); do grep -q PRESENT "$WORK/idle-$1.out" && break; sleep 0.2; done
  grep -q PRESENT "$WORK/idle-$1.out" || { cat "$WORK/idle-$1.out" >&2; exit 1; }
  sleep 1 # let the last sockets' tasks settle
}
before=$(rss)
# A first batch warms what every instance grows once whatever the load (the database pool's
# connections and their statement caches, worker threads' heaps, caches); then two batches of
# BENCH_IDLE: the first may still reuse memory the warm-up freed, the second is what each
# further participant costs.
idle warm "$WARM" 3
warm=$(rss)
idle first "$IDLE" 4
first=$(rss)
idle second "$IDLE" 5
after=$(rss)
echo "  idle participants, $PER_DOC per document (connection + subscription + presence entry, one instance, no Redis):" \
  "RSS ${before} KiB fresh, ${warm} KiB after $WARM, ${first} KiB after $IDLE more, ${after} KiB after another $IDLE:" \
  "$(per $((after - first)) "$IDLE") KiB each (the last $IDLE), $(per $((first - warm)) "$IDLE") KiB each (the $IDLE before)," \
  "$(per $((after - before)) $((2 * IDLE + WARM))) KiB each counted from the fresh instance"
exec 3>&- 4>&- 5>&-
