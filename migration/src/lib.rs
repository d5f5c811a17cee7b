//! Database migrations for Zygo, shared by SQLite (embedded default) and PostgreSQL.
//!
//! Every migration must produce the same behaviour on both backends: use the portable
//! schema helpers of `sea-orm-migration` and no backend-specific SQL unless it is guarded
//! by `manager.get_database_backend()`. Migrations run on `zygo serve` and `zygo migrate`.

pub use sea_orm_migration::prelude::*;

mod m20261121_000001_identity_and_tenancy;
mod m20261121_000002_audit_and_invitations;
mod m20261121_000003_role_inheritance;
mod m20261121_000004_profile_and_sessions;
mod m20261121_000005_tenant_settings;
mod m20261121_000006_api_keys;
mod m20261121_000007_teams;
mod m20261121_000008_account_security;
mod m20261121_000009_workflows;
mod m20261121_000010_row_level_security;
mod m20261203_000011_mail_origin;
mod m20261204_000012_billing;
mod m20261204_000013_mail_attachments;
mod m20261204_000014_jobs;
mod m20261204_000015_studio;
mod m20261204_000016_platform_security_events;
mod m20261204_000017_refunds_and_provider_plans;
mod m20261204_000018_webhooks;
mod m20261204_000019_notifications;
mod m20261204_000020_privacy;
mod m20261204_000021_webhook_ordering;
mod m20261204_000022_policy_acceptances;
mod m20261204_000023_tenant_deletion;
mod m20261204_000024_tenant_domains;
mod m20261204_000025_payment_method_details;
mod m20261204_000035_resources;
mod m20261204_000045_collection_catalog;
mod m20261204_000046_projects;
mod m20261204_000047_collection_records;
mod m20261204_000048_collection_jobs;
mod m20261204_000055_collection_search;
mod m20261204_000056_collection_exports;
mod m20261204_000060_infrastructure;
mod m20261204_000060_platform_roles;
mod m20261204_000070_feature_flags;
mod m20261204_000075_cloud_snapshots;
mod m20261204_000076_limit_overrides;
mod m20261205_000026_support_sessions;
mod m20261205_000027_collection_schedules;
mod m20261205_000028_collection_record_copies;
mod m20261205_000029_floating_ips;
mod m20261205_000030_network_resources;
mod m20261205_000031_server_root_access;

/// Every tenant-owned table with the column naming its tenant, across the migrations.
pub fn tenant_tables() -> Vec<(&'static str, &'static str)> {
    [
        m20261121_000010_row_level_security::TENANT_TABLES,
        m20261204_000012_billing::TENANT_TABLES,
        m20261204_000014_jobs::TENANT_TABLES,
        m20261204_000017_refunds_and_provider_plans::TENANT_TABLES,
        m20261204_000018_webhooks::TENANT_TABLES,
        m20261204_000015_studio::TENANT_TABLES,
        m20261204_000024_tenant_domains::TENANT_TABLES,
        m20261204_000035_resources::TENANT_TABLES,
        m20261204_000046_projects::TENANT_TABLES,
        m20261204_000047_collection_records::TENANT_TABLES,
        m20261204_000048_collection_jobs::TENANT_TABLES,
        m20261204_000060_infrastructure::TENANT_TABLES,
        m20261204_000075_cloud_snapshots::TENANT_TABLES,
        m20261204_000055_collection_search::TENANT_TABLES,
        m20261204_000056_collection_exports::TENANT_TABLES,
        m20261205_000026_support_sessions::TENANT_TABLES,
        m20261205_000028_collection_record_copies::TENANT_TABLES,
        m20261205_000029_floating_ips::TENANT_TABLES,
        m20261205_000030_network_resources::TENANT_TABLES,
    ]
    .concat()
}

/// The PostgreSQL role the server's connections switch to so row-level security applies
/// (created by the migrations, `NOLOGIN`).
pub const APP_ROLE: &str = "zygo_app";

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_identity_and_tenancy::Migration),
            Box::new(m20261121_000002_audit_and_invitations::Migration),
            Box::new(m20261121_000003_role_inheritance::Migration),
            Box::new(m20261121_000004_profile_and_sessions::Migration),
            Box::new(m20261121_000005_tenant_settings::Migration),
            Box::new(m20261121_000006_api_keys::Migration),
            Box::new(m20261121_000007_teams::Migration),
            Box::new(m20261121_000008_account_security::Migration),
            Box::new(m20261121_000009_workflows::Migration),
            Box::new(m20261121_000010_row_level_security::Migration),
            Box::new(m20261203_000011_mail_origin::Migration),
            Box::new(m20261204_000012_billing::Migration),
            Box::new(m20261204_000013_mail_attachments::Migration),
            Box::new(m20261204_000014_jobs::Migration),
            Box::new(m20261204_000017_refunds_and_provider_plans::Migration),
            Box::new(m20261204_000018_webhooks::Migration),
            Box::new(m20261204_000015_studio::Migration),
            Box::new(m20261204_000016_platform_security_events::Migration),
            Box::new(m20261204_000019_notifications::Migration),
            Box::new(m20261204_000020_privacy::Migration),
            Box::new(m20261204_000021_webhook_ordering::Migration),
            Box::new(m20261204_000022_policy_acceptances::Migration),
            Box::new(m20261204_000023_tenant_deletion::Migration),
            Box::new(m20261204_000024_tenant_domains::Migration),
            Box::new(m20261204_000025_payment_method_details::Migration),
            Box::new(m20261204_000035_resources::Migration),
            Box::new(m20261204_000045_collection_catalog::Migration),
            Box::new(m20261204_000046_projects::Migration),
            Box::new(m20261204_000047_collection_records::Migration),
            Box::new(m20261204_000048_collection_jobs::Migration),
            Box::new(m20261204_000060_platform_roles::Migration),
            Box::new(m20261204_000060_infrastructure::Migration),
            Box::new(m20261204_000055_collection_search::Migration),
            Box::new(m20261204_000070_feature_flags::Migration),
            Box::new(m20261204_000075_cloud_snapshots::Migration),
            Box::new(m20261204_000076_limit_overrides::Migration),
            Box::new(m20261204_000056_collection_exports::Migration),
            Box::new(m20261205_000026_support_sessions::Migration),
            Box::new(m20261205_000027_collection_schedules::Migration),
            Box::new(m20261205_000028_collection_record_copies::Migration),
            Box::new(m20261205_000029_floating_ips::Migration),
            Box::new(m20261205_000030_network_resources::Migration),
            Box::new(m20261205_000031_server_root_access::Migration),
        ]
    }
}
