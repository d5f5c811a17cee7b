-- Seeds the benchmark's organisation (created through the API, :tenant) with 999 more
-- members (users + memberships, role `member`), 50 teams and 20 members in each team.
-- Psql variables: tenant (uuid).
INSERT INTO users (id, email, name, password_hash, email_verified_at, created_at, updated_at)
SELECT gen_random_uuid(), 'member' || i || '@bench.example', 'Member ' || i, 'x', now(), now(), now()
FROM generate_series(1, 999) AS i;
INSERT INTO memberships (id, tenant_id, user_id, role_id, status, created_at, updated_at)
SELECT gen_random_uuid(), :'tenant', u.id,
       (SELECT id FROM roles WHERE tenant_id = :'tenant' AND key = 'member'), 'active', now(), now()
FROM users u WHERE u.email LIKE '%@bench.example';
INSERT INTO teams (id, tenant_id, name, description, created_at, updated_at)
SELECT gen_random_uuid(), :'tenant', 'Team ' || i, 'Team number ' || i, now() + i * interval '1 ms', now()
FROM generate_series(1, 50) AS i;
INSERT INTO team_members (id, tenant_id, team_id, membership_id, role, created_at)
SELECT gen_random_uuid(), :'tenant', t.id, m.id, 'editor', now()
FROM (SELECT id, row_number() OVER (ORDER BY created_at) - 1 AS n FROM teams WHERE tenant_id = :'tenant') t
JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM memberships WHERE tenant_id = :'tenant') m
  ON m.n / 20 = t.n;
ANALYZE;
