//! Organisation deletion with a grace period: `tenants.deletion_due_at` is set when an owner
//! deletes the organisation and cleared when they take it back; the `tenancy.purge` job removes
//! the organisation's data once it is due.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000023_tenant_deletion"
    }
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    DeletionDueAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Tenants::Table)
                .add_column(timestamp_with_time_zone_null(Tenants::DeletionDueAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Tenants::Table).drop_column(Tenants::DeletionDueAt).to_owned())
            .await
    }
}
