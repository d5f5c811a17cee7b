#!/usr/bin/env bash
# Side-by-side API benchmark: Zygo and PostGraphile 4.14 on the same PostgreSQL database
# (1 organisation, 50 teams, 1,000 members, 20 members in each team), plus a raw axum
# handler as the floor for `{ __typename }`. wrk -c16, interleaved rounds, medians.
#
#   bash benches/api/run.sh            (BENCH_SECONDS per run, default 10; BENCH_ROUNDS, default 3)
#   BENCH_HOLD=1 bash benches/api/run.sh   seeds, starts both servers, prints where, and waits
#                                          (for profiling; BENCH_ZYGO_LOG sets Zygo's ZYGO_LOG)
#
# Needs target/release/zygo (cargo build --release), wrk, node/npm, PostgreSQL
# (BENCH_PG, default postgres://postgres@127.0.0.1:5432) and Redis (BENCH_REDIS).
set -euo pipefail
cd "$(dirname "$0")/../.."
SECS="${BENCH_SECONDS:-10}"; ROUNDS="${BENCH_ROUNDS:-3}"
PG="${BENCH_PG:-postgres://postgres@127.0.0.1:5432}"; REDIS="${BENCH_REDIS:-redis://127.0.0.1:6379}"
BIN="${ZYGO_BIN:-target/release/zygo}"
[ -x "$BIN" ] || { echo "build Zygo first: cargo build --release" >&2; exit 1; }
command -v wrk >/dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 1; }
[ -d benches/api/postgraphile/node_modules/postgraphile ] ||
  npm install --prefix benches/api/postgraphile --no-audit --no-fund --loglevel=error >/dev/null
cargo build --release --quiet --bench api_floor 2>/dev/null || true
FLOOR=$(ls -t target/release/deps/api_floor-* 2>/dev/null | grep -v '\.d$' | head -1 || true) # none: no floor row

DB="zygo_bench_$$"; WORK=$(mktemp -d); PIDS=()
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
psql "$PG/postgres" -qc "CREATE DATABASE $DB" >/dev/null
ZP=$((20000 + RANDOM % 10000)); GP=$((ZP + 1)); FP=$((ZP + 2))
# Both servers talk to PostgreSQL in plain text: node-postgres (PostGraphile) does not ask for
# TLS unless told to, while sqlx (Zygo) prefers it whenever the server offers it, which would
# add TLS records to every Zygo statement and to none of PostGraphile's.
ZYGO_DATABASE_URL="$PG/$DB?sslmode=disable" ZYGO_REDIS_URL="$REDIS" ZYGO_LISTEN="127.0.0.1:$ZP" ZYGO_DATA_DIR="$WORK/data" \
  ZYGO_BILLING_PLANS_FILE=benches/api/plans.json ZYGO_WORKFLOW_WORKERS=0 ZYGO_LOG="${BENCH_ZYGO_LOG:-error}" ZYGO_RATE_LIMIT_PER_MINUTE=100000000 ZYGO_RATE_LIMIT_ANONYMOUS_PER_MINUTE=100000000 ZYGO_MAX_PAGE_SIZE=100 ZYGO_MAX_QUERY_COMPLEXITY=20000 \
  "$BIN" >"$WORK/zygo.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 150); do curl -sf "127.0.0.1:$ZP/readyz" >/dev/null && break; sleep 0.2; done
source benches/owner.sh
owner_with_organisation Bench bench
TENANT_UUID=$(psql "$PG/$DB" -tAc "SELECT id FROM tenants WHERE slug = 'bench'")
psql "$PG/$DB" -q -v tenant="$TENANT_UUID" -f benches/api/seed.sql >/dev/null
MEMBERSHIP=$(gql "$TOKEN" "{\"query\":\"{tenant(id:\\\"$TENANT\\\"){members(first:1){totalCount edges{node{id}}}}}\"}" | jq_ 'v.data.tenant.members.edges[0].node.id')
MEMBERSHIP_UUID=$(psql "$PG/$DB" -tAc "SELECT m.id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = 'owner@bench.example.org'")

# Zygo's `node_id` columns (workflow node keys) clash with PostGraphile's Relay `nodeId`
# field: a smart comment renames them for PostGraphile, as its documentation advises.
for t in $(psql "$PG/$DB" -tAc "SELECT table_name FROM information_schema.columns WHERE column_name = 'node_id' AND table_schema = 'public'"); do
  psql "$PG/$DB" -qc "COMMENT ON COLUMN $t.node_id IS E'@name nodeKey'" >/dev/null
done
node benches/api/postgraphile/node_modules/postgraphile/cli.js -c "$PG/$DB" --schema public --host 127.0.0.1 \
  --port "$GP" --disable-graphiql --disable-query-log >"$WORK/pg.log" 2>&1 & PIDS+=($!)
[ -n "$FLOOR" ] && { FLOOR_LISTEN="127.0.0.1:$FP" "$FLOOR" >"$WORK/floor.log" 2>&1 & PIDS+=($!); }
for _ in $(seq 1 150); do curl -sf "127.0.0.1:$GP/graphql" -H 'content-type: application/json' -d '{"query":"{__typename}"}' >/dev/null && break; sleep 0.2; done

# The documents, one file each (wrk reads BODY_FILE).
body() { printf '%s' "$2" >"$WORK/$1.json"; }
body z_nested "{\"query\":\"query(\$id:ID!){tenant(id:\$id){id teams(first:50){totalCount edges{node{id name description members(first:20){edges{node{role addedAt membership{id user{id name}}}}}}}}}}\",\"variables\":{\"id\":\"$TENANT\"}}"
body g_nested "{\"query\":\"query(\$id:UUID!){tenantById(id:\$id){id teamsByTenantId(first:50,orderBy:CREATED_AT_ASC){totalCount nodes{id name description teamMembersByTeamId(first:20){nodes{role createdAt membershipByMembershipId{id userByUserId{id name}}}}}}}}\",\"variables\":{\"id\":\"$TENANT_UUID\"}}"
body z_tenant "{\"query\":\"query(\$id:ID!){tenant(id:\$id){id name slug}}\",\"variables\":{\"id\":\"$TENANT\"}}"
body g_tenant "{\"query\":\"query(\$id:UUID!){tenantById(id:\$id){id name slug}}\",\"variables\":{\"id\":\"$TENANT_UUID\"}}"
body z_membership "{\"query\":\"query(\$id:ID!){node(id:\$id){id ... on Membership{status}}}\",\"variables\":{\"id\":\"$MEMBERSHIP\"}}"
body g_membership "{\"query\":\"query(\$id:UUID!){membershipById(id:\$id){id status}}\",\"variables\":{\"id\":\"$MEMBERSHIP_UUID\"}}"
body typename '{"query":"{__typename}"}'

if [ -n "${BENCH_HOLD:-}" ]; then # keep the seeded servers up for profiling, until interrupted
  echo "Zygo http://127.0.0.1:$ZP/graphql (pid ${PIDS[0]}, log $WORK/zygo.log), PostGraphile http://127.0.0.1:$GP/graphql"
  echo "bodies in $WORK/*.json; token: $TOKEN"
  sleep infinity
fi

# Sanity: every document answers without errors, and the nested one holds 50 × 20 members.
check() { local out; out=$(curl -s "$1" -H 'content-type: application/json' ${3:+-H "authorization: Bearer $3"} -d @"$WORK/$2.json")
  case "$out" in *'"errors"'*|'') echo "$2 failed: ${out:0:400}" >&2; exit 1;; esac; echo "$out"; }
n=$(check "127.0.0.1:$ZP/graphql" z_nested "$TOKEN" | grep -o '"membership"' | wc -l)
m=$(check "127.0.0.1:$GP/graphql" g_nested | grep -o '"membershipByMembershipId"' | wc -l)
[ "$n" = 1000 ] && [ "$m" = 1000 ] || { echo "nested answers hold $n (Zygo) and $m (PostGraphile) members, not 1000" >&2; exit 1; }
for d in z_tenant z_membership; do check "127.0.0.1:$ZP/graphql" $d "$TOKEN" >/dev/null; done
for d in g_tenant g_membership; do check "127.0.0.1:$GP/graphql" $d >/dev/null; done

statements() { # document → SQL statements Zygo sends per request (after a warm-up one), as
  # the mean of 20 requests: the workers' polling statements fall into the same counter, and
  # spread over 20 requests they add a fraction, not a whole statement, to the figure.
  curl -s "127.0.0.1:$ZP/graphql" -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -d @"$WORK/$1.json" >/dev/null
  local a b; a=$(curl -s "127.0.0.1:$ZP/metrics" | awk '/^zygo_db_statements_total/{s+=$NF} END{print s}')
  for _ in $(seq 1 20); do
    curl -s "127.0.0.1:$ZP/graphql" -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" -d @"$WORK/$1.json" >/dev/null
  done
  b=$(curl -s "127.0.0.1:$ZP/metrics" | awk '/^zygo_db_statements_total/{s+=$NF} END{print s}')
  awk -v d=$((b - a)) 'BEGIN{printf "%.1f", d / 20}'; }

run() { # name url body token → "rps p50 p99 errors"
  BODY_FILE="$WORK/$3.json" TOKEN="${4:-}" wrk -t2 -c16 -d"${SECS}s" -s benches/api/post.lua "$2" 2>/dev/null | awk '/^RESULT/{print $2, $3, $4, $5}'; }
declare -A R
CASES=(
  "zygo_nested|http://127.0.0.1:$ZP/graphql|z_nested|$TOKEN"
  "pg_nested|http://127.0.0.1:$GP/graphql|g_nested|"
  "zygo_tenant|http://127.0.0.1:$ZP/graphql|z_tenant|$TOKEN"
  "pg_tenant|http://127.0.0.1:$GP/graphql|g_tenant|"
  "zygo_membership|http://127.0.0.1:$ZP/graphql|z_membership|$TOKEN"
  "pg_membership|http://127.0.0.1:$GP/graphql|g_membership|"
  "zygo_typename_anon|http://127.0.0.1:$ZP/graphql|typename|"
  "zygo_typename_auth|http://127.0.0.1:$ZP/graphql|typename|$TOKEN"
  "pg_typename|http://127.0.0.1:$GP/graphql|typename|"
)
[ -n "$FLOOR" ] && CASES+=("axum_floor|http://127.0.0.1:$FP/graphql|typename|")
for r in $(seq 1 "$ROUNDS"); do
  for c in "${CASES[@]}"; do IFS='|' read -r name url b t <<<"$c"; R[$name]+="$(run "$name" "$url" "$b" "$t");"; done
  echo "round $r of $ROUNDS done" >&2
done
# Still complete after the rounds: a refusal (a quota, a rate limit) answers fast with an
# error, and would otherwise count as throughput.
check "127.0.0.1:$ZP/graphql" z_nested "$TOKEN" | grep -q '"membership"' || { echo "Zygo's nested answer failed after the rounds" >&2; exit 1; }
for d in z_tenant z_membership; do check "127.0.0.1:$ZP/graphql" $d "$TOKEN" >/dev/null; done
median() { tr ';' '\n' <<<"${R[$1]}" | awk -v k="$2" 'NF{print $k}' | sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
printf '\n%-20s %10s %10s %10s %8s\n' workload rps "p50 ms" "p99 ms" errors
for c in "${CASES[@]}"; do name="${c%%|*}"
  printf '%-20s %10s %10s %10s %8s\n' "$name" "$(median "$name" 1)" "$(median "$name" 2)" "$(median "$name" 3)" "$(median "$name" 4)"; done
ratio() { awk -v a="$(median "$1" 1)" -v b="$(median "$2" 1)" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
echo
echo "Zygo SQL statements per request: nested $(statements z_nested), tenant by ID $(statements z_tenant), membership by ID $(statements z_membership)"
echo "nested list          Zygo / PostGraphile: $(ratio zygo_nested pg_nested)   (target >= 2)"
echo "tenant by ID         Zygo / PostGraphile: $(ratio zygo_tenant pg_tenant)   (target >= 1)"
echo "membership by ID     Zygo / PostGraphile: $(ratio zygo_membership pg_membership)   (target >= 1)"
echo "__typename           authenticated / anonymous: $(ratio zygo_typename_auth zygo_typename_anon)   (target >= 0.9)"
if [ -n "$FLOOR" ]; then echo "__typename           anonymous / raw axum: $(ratio zygo_typename_anon axum_floor)   (target >= 0.3)"
else echo "__typename           anonymous / raw axum: not measured (no floor binary: cargo build --release --bench api_floor)"; fi
