//! The platform's own operators: `platform_roles` (one role per user account, SUPER_ADMIN or
//! SUPPORT, granted from the command line or by a super admin) and `platform_audit_entries`
//! (every admin action, with its reason). Platform tables, outside row-level security: no
//! organisation owns them and no organisation path reaches them.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000060_platform_roles"
    }
}

#[derive(DeriveIden)]
enum PlatformRoles {
    Table,
    Id,
    UserId,
    Role,
    GrantedBy,
    GrantedAt,
}

#[derive(DeriveIden)]
enum PlatformAuditEntries {
    Table,
    Id,
    ActorId,
    Action,
    OrganisationId,
    TargetType,
    TargetId,
    Reason,
    Metadata,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PlatformRoles::Table)
                .col(pk_uuid(PlatformRoles::Id))
                .col(uuid_uniq(PlatformRoles::UserId))
                .col(string(PlatformRoles::Role))
                .col(uuid_null(PlatformRoles::GrantedBy))
                .col(timestamp_with_time_zone(PlatformRoles::GrantedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(PlatformRoles::Table, PlatformRoles::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(PlatformAuditEntries::Table)
                .col(pk_uuid(PlatformAuditEntries::Id))
                // No foreign keys: the log outlives the accounts and organisations it names.
                .col(uuid_null(PlatformAuditEntries::ActorId))
                .col(string(PlatformAuditEntries::Action))
                .col(uuid_null(PlatformAuditEntries::OrganisationId))
                .col(string(PlatformAuditEntries::TargetType))
                .col(string_null(PlatformAuditEntries::TargetId))
                .col(text_null(PlatformAuditEntries::Reason))
                .col(json_null(PlatformAuditEntries::Metadata))
                .col(timestamp_with_time_zone(PlatformAuditEntries::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_platform_audit_entries_created")
                .table(PlatformAuditEntries::Table)
                .col(PlatformAuditEntries::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PlatformAuditEntries::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(PlatformRoles::Table).to_owned()).await
    }
}
