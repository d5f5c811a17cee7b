//! Custom domains of organisations: each proven by a TXT record, re-checked periodically; a
//! domain belongs to one organisation only (a unique index across tenants), one of them primary.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000024_tenant_domains"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] = &[("tenant_domains", "tenant_id")];

#[derive(DeriveIden)]
enum TenantDomains {
    Table,
    Id,
    TenantId,
    Domain,
    Status,
    VerificationToken,
    IsPrimary,
    VerifiedAt,
    LastCheckedAt,
    FailingSince,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(TenantDomains::Table)
                .col(pk_uuid(TenantDomains::Id))
                .col(uuid(TenantDomains::TenantId))
                .col(string(TenantDomains::Domain))
                .col(string(TenantDomains::Status))
                .col(string(TenantDomains::VerificationToken))
                .col(boolean(TenantDomains::IsPrimary).default(false))
                .col(timestamp_with_time_zone_null(TenantDomains::VerifiedAt))
                .col(timestamp_with_time_zone_null(TenantDomains::LastCheckedAt))
                .col(timestamp_with_time_zone_null(TenantDomains::FailingSince))
                .col(uuid_null(TenantDomains::CreatedBy))
                .col(timestamp_with_time_zone(TenantDomains::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(TenantDomains::Table, TenantDomains::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_tenant_domains_domain")
                .table(TenantDomains::Table)
                .col(TenantDomains::Domain)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_tenant_domains_tenant")
                .table(TenantDomains::Table)
                .col(TenantDomains::TenantId)
                .to_owned(),
        )
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(TenantDomains::Table).to_owned()).await
    }
}
