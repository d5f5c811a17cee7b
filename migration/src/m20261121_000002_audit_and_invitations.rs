//! The audit log and member invitations.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261121_000002_audit_and_invitations"
    }
}

#[derive(DeriveIden)]
enum AuditEntries {
    Table,
    Id,
    TenantId,
    ActorType,
    ActorId,
    Action,
    TargetType,
    TargetId,
    Before,
    After,
    Ip,
    UserAgent,
    RequestId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    TenantId,
    Email,
    RoleId,
    TokenHash,
    InvitedBy,
    Status,
    ExpiresAt,
    CreatedAt,
    AcceptedAt,
    AcceptedBy,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(AuditEntries::Table)
                .col(pk_uuid(AuditEntries::Id))
                .col(uuid(AuditEntries::TenantId))
                .col(string(AuditEntries::ActorType))
                .col(uuid_null(AuditEntries::ActorId))
                .col(string(AuditEntries::Action))
                .col(string(AuditEntries::TargetType))
                .col(string_null(AuditEntries::TargetId))
                .col(json_null(AuditEntries::Before))
                .col(json_null(AuditEntries::After))
                .col(string_null(AuditEntries::Ip))
                .col(string_null(AuditEntries::UserAgent))
                .col(string_null(AuditEntries::RequestId))
                .col(timestamp_with_time_zone(AuditEntries::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_audit_entries_tenant")
                        .from(AuditEntries::Table, AuditEntries::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_audit_entries_tenant")
                .table(AuditEntries::Table)
                .col(AuditEntries::TenantId)
                .col(AuditEntries::Id)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Invitations::Table)
                .col(pk_uuid(Invitations::Id))
                .col(uuid(Invitations::TenantId))
                .col(string(Invitations::Email))
                .col(uuid(Invitations::RoleId))
                .col(string_uniq(Invitations::TokenHash))
                .col(uuid(Invitations::InvitedBy))
                .col(string(Invitations::Status))
                .col(timestamp_with_time_zone(Invitations::ExpiresAt))
                .col(timestamp_with_time_zone(Invitations::CreatedAt))
                .col(timestamp_with_time_zone_null(Invitations::AcceptedAt))
                .col(uuid_null(Invitations::AcceptedBy))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_invitations_tenant")
                        .from(Invitations::Table, Invitations::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_invitations_role")
                        .from(Invitations::Table, Invitations::RoleId)
                        .to(Roles::Table, Roles::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_invitations_tenant_email")
                .table(Invitations::Table)
                .col(Invitations::TenantId)
                .col(Invitations::Email)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Invitations::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(AuditEntries::Table).to_owned()).await?;
        Ok(())
    }
}
