//! Privacy: data exports (a person's data, or an owner's whole organisation, as a ZIP of JSON
//! files kept for a week) and account deletion with a grace period (`users.deletion_scheduled_at`).
//!
//! An export belongs to the person who asked for it (like notifications, not behind the tenant
//! wall: its `organisation_id` says which organisation an owner exported).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000020_privacy"
    }
}

#[derive(DeriveIden)]
enum DataExports {
    Table,
    Id,
    UserId,
    OrganisationId,
    Status,
    Archive,
    SizeBytes,
    Error,
    RequestedAt,
    ReadyAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    DeletionScheduledAt,
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
                .table(DataExports::Table)
                .col(pk_uuid(DataExports::Id))
                .col(uuid(DataExports::UserId))
                .col(uuid_null(DataExports::OrganisationId))
                .col(string(DataExports::Status))
                .col(blob_null(DataExports::Archive))
                .col(big_integer_null(DataExports::SizeBytes))
                .col(text_null(DataExports::Error))
                .col(timestamp_with_time_zone(DataExports::RequestedAt))
                .col(timestamp_with_time_zone_null(DataExports::ReadyAt))
                .col(timestamp_with_time_zone_null(DataExports::ExpiresAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(DataExports::Table, DataExports::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(DataExports::Table, DataExports::OrganisationId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_data_exports_user")
                .table(DataExports::Table)
                .col(DataExports::UserId)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(timestamp_with_time_zone_null(Users::DeletionScheduledAt))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Users::Table).drop_column(Users::DeletionScheduledAt).to_owned())
            .await?;
        m.drop_table(Table::drop().table(DataExports::Table).to_owned()).await
    }
}
