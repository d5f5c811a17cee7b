# Sourced by the benchmark scripts once a Zygo answers on 127.0.0.1:$ZP with the database
# $PG/$DB: GraphQL helpers, and `owner_with_organisation NAME SLUG`, which signs up the
# benchmark's owner (verified directly in the database), logs in and founds an organisation,
# setting TOKEN (the owner's access token) and TENANT (the organisation's global ID).
gql() { # token body-json → response
  curl -sf "127.0.0.1:$ZP/graphql" -H 'content-type: application/json' ${1:+-H "authorization: Bearer $1"} -d "$2"; }
jq_() { node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const v=JSON.parse(s);console.log(($1))})"; }
owner_with_organisation() { # name slug
  gql "" '{"query":"mutation($i:SignUpInput!){signUp(input:$i){user{id}}}","variables":{"i":{"email":"owner@bench.example.org","password":"correct horse battery staple","name":"Owner"}}}' >/dev/null
  psql "$PG/$DB" -qc "UPDATE users SET email_verified_at = now()" >/dev/null
  TOKEN=$(gql "" '{"query":"mutation($i:LogInInput!){logIn(input:$i){tokens{accessToken}}}","variables":{"i":{"email":"owner@bench.example.org","password":"correct horse battery staple"}}}' | jq_ 'v.data.logIn.tokens.accessToken')
  TENANT=$(gql "$TOKEN" "{\"query\":\"mutation(\$i:CreateTenantInput!){createTenant(input:\$i){tenant{id}}}\",\"variables\":{\"i\":{\"name\":\"$1\",\"slug\":\"$2\"}}}" | jq_ 'v.data.createTenant.tenant.id')
}
