//! The one queue of background work (`zygo::jobs`): renewals, charges, deliveries and every
//! later area's jobs. A tenant's jobs sit behind its wall; system jobs (no tenant) are seen
//! only across tenants, by the workers.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000014_jobs"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] = &[("jobs", "tenant_id")];

#[derive(DeriveIden)]
enum Jobs {
    Table,
    Id,
    TenantId,
    Kind,
    Key,
    Payload,
    Status,
    RunAt,
    Attempts,
    MaxAttempts,
    LeaseOwner,
    LeaseExpiresAt,
    LastError,
    CreatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Jobs::Table)
                .col(pk_uuid(Jobs::Id))
                .col(uuid_null(Jobs::TenantId))
                .col(string(Jobs::Kind))
                .col(string_null(Jobs::Key))
                .col(json(Jobs::Payload))
                .col(string(Jobs::Status))
                .col(timestamp_with_time_zone(Jobs::RunAt))
                .col(integer(Jobs::Attempts).default(0))
                .col(integer(Jobs::MaxAttempts))
                .col(string_null(Jobs::LeaseOwner))
                .col(timestamp_with_time_zone_null(Jobs::LeaseExpiresAt))
                .col(text_null(Jobs::LastError))
                .col(timestamp_with_time_zone(Jobs::CreatedAt))
                .col(timestamp_with_time_zone_null(Jobs::FinishedAt))
                .to_owned(),
        )
        .await?;
        // Enqueuing a named job twice adds nothing (NULL keys never collide).
        m.create_index(
            Index::create()
                .name("uq_jobs_kind_key")
                .table(Jobs::Table)
                .col(Jobs::Kind)
                .col(Jobs::Key)
                .unique()
                .to_owned(),
        )
        .await?;
        // The workers' look for due work.
        m.create_index(
            Index::create()
                .name("ix_jobs_due")
                .table(Jobs::Table)
                .col(Jobs::Status)
                .col(Jobs::RunAt)
                .to_owned(),
        )
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Jobs::Table).to_owned()).await
    }
}
