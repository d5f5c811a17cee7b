//! The second wall on PostgreSQL: row-level security on every tenant-owned table.
//!
//! - A role [`crate::APP_ROLE`] (`NOLOGIN`) that the server's connections switch to, so the
//!   policies apply (superusers and table owners bypass them; `FORCE` covers owners too).
//! - Two transaction-local settings, set only by the scoped helpers in `src/db/`:
//!   `zygo.tenant_ids` (one or more tenant ids, comma-separated) and `zygo.across_tenants`
//!   (`on` for the few reads that precede a tenant decision and for the workers).
//! - On each tenant-owned table one policy for every command: a row is visible and writable
//!   only when its tenant is in `zygo.tenant_ids` or the transaction is across tenants.
//!   Without either setting a query sees no row and no insert passes.
//!
//! SQLite has no row-level security; there the helpers are the only wall.

use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261121_000010_row_level_security"
    }
}

/// Every tenant-owned table with the column naming its tenant (`tenants` owns itself).
pub const TENANT_TABLES: &[(&str, &str)] = &[
    ("tenants", "id"),
    ("memberships", "tenant_id"),
    ("roles", "tenant_id"),
    ("role_permissions", "tenant_id"),
    ("invitations", "tenant_id"),
    ("audit_entries", "tenant_id"),
    ("api_keys", "tenant_id"),
    ("teams", "tenant_id"),
    ("team_members", "tenant_id"),
    ("secrets", "tenant_id"),
    ("secret_accesses", "tenant_id"),
    ("environment_variables", "tenant_id"),
    ("workflows", "tenant_id"),
    ("workflow_versions", "tenant_id"),
    ("workflow_templates", "tenant_id"),
    ("executions", "tenant_id"),
    ("node_executions", "tenant_id"),
    ("execution_logs", "tenant_id"),
    ("memory_records", "tenant_id"),
];

/// The policy expression for a table whose tenant is in `column`. The settings are read in
/// sub-selects so PostgreSQL evaluates them once per statement (an InitPlan), not per row.
fn wall(column: &str) -> String {
    format!("(\"{column}\" = ANY ((SELECT zygo_tenant_ids())::uuid[]) OR (SELECT zygo_across_tenants()))")
}

/// Walls `tables` on PostgreSQL (no-op elsewhere): row-level security, forced, with the
/// tenant policy. Later migrations call it for the tenant tables they add.
pub async fn wall_tables(manager: &SchemaManager<'_>, tables: &[(&str, &str)]) -> Result<(), DbErr> {
    if manager.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
        return Ok(());
    }
    let db = manager.get_connection();
    for (table, column) in tables {
        let wall = wall(column);
        db.execute_unprepared(&format!(
            r#"ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY;
            ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY;
            CREATE POLICY tenant_wall ON "{table}" USING {wall} WITH CHECK {wall};"#
        ))
        .await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        let role = crate::APP_ROLE;
        // Roles are shared by the whole cluster: another database (or a test running in
        // parallel) may have created it already, or an administrator did, for a migrating
        // user who may not create roles.
        db.execute_unprepared(&format!(
            r#"DO $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN
                    BEGIN
                        CREATE ROLE {role} NOLOGIN;
                    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                    END;
                END IF;
                IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN
                    EXECUTE format('GRANT {role} TO %I', current_user);
                END IF;
                EXECUTE format('GRANT USAGE ON SCHEMA %I TO {role}', current_schema());
                EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO {role}', current_schema());
                EXECUTE format('GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO {role}', current_schema());
                EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}', current_schema());
                EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}', current_schema());
            END
            $$"#
        ))
        .await?;
        db.execute_unprepared(
            r#"CREATE OR REPLACE FUNCTION zygo_tenant_ids() RETURNS uuid[]
                LANGUAGE sql STABLE PARALLEL SAFE
                AS $$ SELECT string_to_array(NULLIF(current_setting('zygo.tenant_ids', true), ''), ',')::uuid[] $$;
            CREATE OR REPLACE FUNCTION zygo_across_tenants() RETURNS boolean
                LANGUAGE sql STABLE PARALLEL SAFE
                AS $$ SELECT coalesce(current_setting('zygo.across_tenants', true) = 'on', false) $$;"#,
        )
        .await?;
        wall_tables(manager, TENANT_TABLES).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm_migration::sea_orm::DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, _) in TENANT_TABLES {
            db.execute_unprepared(&format!(
                r#"DROP POLICY IF EXISTS tenant_wall ON "{table}";
                ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY;
                ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY;"#
            ))
            .await?;
        }
        db.execute_unprepared(
            "DROP FUNCTION IF EXISTS zygo_tenant_ids(); DROP FUNCTION IF EXISTS zygo_across_tenants();",
        )
        .await?;
        Ok(())
    }
}
