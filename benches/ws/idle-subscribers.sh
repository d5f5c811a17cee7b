#!/usr/bin/env bash
# Memory per idle GraphQL WebSocket connection: starts Zygo (embedded default, fresh data
# directory, no workflow workers), reads its RSS, opens N graphql-transport-ws connections
# from a separate Node process (so the clients' memory is not counted), waits for every
# connection_ack, and reads the RSS again.
#
#   bash benches/ws/idle-subscribers.sh [N ...]     (default: 1000 5000)
#
# Uses target/release/zygo when it exists (ZYGO_BIN overrides), else target/debug/zygo.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${ZYGO_BIN:-$( [ -x target/release/zygo ] && echo target/release/zygo || echo target/debug/zygo )}"
[ -x "$BIN" ] || { echo "build Zygo first (cargo build --release)" >&2; exit 1; }
[ -d tests/clients/node_modules/ws ] || npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error
for N in "${@:-1000 5000}"; do
  dir=$(mktemp -d); port=$((20000 + RANDOM % 20000))
  ZYGO_DATA_DIR="$dir" ZYGO_LISTEN="127.0.0.1:$port" ZYGO_LOG=error ZYGO_WORKFLOW_WORKERS=0 "$BIN" >"$dir/log" 2>&1 &
  server=$!
  for _ in $(seq 1 150); do curl -sf "127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  before=$(awk '/VmRSS/{print $2}' "/proc/$server/status")
  mkfifo "$dir/hold"
  node benches/ws/idle-subscribers.mjs "ws://127.0.0.1:$port/graphql/ws" "$N" <"$dir/hold" >"$dir/out" 2>&1 &
  clients=$!
  exec 3>"$dir/hold"
  for _ in $(seq 1 600); do grep -q ACKED "$dir/out" && break; sleep 0.2; done
  grep -q ACKED "$dir/out" || { cat "$dir/out" >&2; kill $server $clients; exit 1; }
  sleep 1 # let the last sockets' tasks settle
  after=$(awk '/VmRSS/{print $2}' "/proc/$server/status")
  echo "$N idle subscribers ($BIN): RSS ${before} KiB -> ${after} KiB, $(( (after - before) / N )) KiB each"
  exec 3>&-
  kill $server $clients 2>/dev/null || true
  wait $server $clients 2>/dev/null || true
  rm -rf "$dir"
done
