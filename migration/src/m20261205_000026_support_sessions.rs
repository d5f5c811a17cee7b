//! Developer mode (support access): a platform operator's time-limited session in one
//! organisation, with its reason, its read-only switch, the owners' approval when the
//! organisation requires it, and who ended it. The access check reads the active ones.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000026_support_sessions"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] = &[("support_sessions", "tenant_id")];

#[derive(DeriveIden)]
enum SupportSessions {
    Table,
    Id,
    TenantId,
    UserId,
    Reason,
    ReadOnly,
    Minutes,
    Status,
    RequestedAt,
    ApprovedBy,
    ApprovedAt,
    DeniedBy,
    DeniedAt,
    StartedAt,
    ExpiresAt,
    EndedBy,
    EndedAt,
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
                .table(SupportSessions::Table)
                .col(pk_uuid(SupportSessions::Id))
                .col(uuid(SupportSessions::TenantId))
                .col(uuid(SupportSessions::UserId))
                .col(text(SupportSessions::Reason))
                .col(boolean(SupportSessions::ReadOnly))
                .col(integer(SupportSessions::Minutes))
                .col(string(SupportSessions::Status))
                .col(timestamp_with_time_zone(SupportSessions::RequestedAt))
                .col(uuid_null(SupportSessions::ApprovedBy))
                .col(timestamp_with_time_zone_null(SupportSessions::ApprovedAt))
                .col(uuid_null(SupportSessions::DeniedBy))
                .col(timestamp_with_time_zone_null(SupportSessions::DeniedAt))
                .col(timestamp_with_time_zone_null(SupportSessions::StartedAt))
                .col(timestamp_with_time_zone_null(SupportSessions::ExpiresAt))
                .col(uuid_null(SupportSessions::EndedBy))
                .col(timestamp_with_time_zone_null(SupportSessions::EndedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(SupportSessions::Table, SupportSessions::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The access check looks a user's sessions up across organisations.
        m.create_index(
            Index::create()
                .name("ix_support_sessions_user")
                .table(SupportSessions::Table)
                .col(SupportSessions::UserId)
                .col(SupportSessions::Status)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_support_sessions_tenant")
                .table(SupportSessions::Table)
                .col(SupportSessions::TenantId)
                .to_owned(),
        )
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SupportSessions::Table).to_owned()).await
    }
}
