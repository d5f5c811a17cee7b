//! Identity (users, sessions, refresh tokens, one-time tokens), tenancy (tenants, roles,
//! role permissions, memberships) and the mail outbox.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261121_000001_identity_and_tenancy"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    EmailVerifiedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    UserAgent,
    Ip,
    CreatedAt,
    LastUsedAt,
    ExpiresAt,
    RevokedAt,
    RevokedReason,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    SessionId,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    RotatedAt,
}

#[derive(DeriveIden)]
enum UserTokens {
    Table,
    Id,
    UserId,
    Kind,
    TokenHash,
    CreatedAt,
    ExpiresAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
    Name,
    Slug,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    Id,
    TenantId,
    Key,
    Name,
    Description,
    IsBuiltin,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RolePermissions {
    Table,
    TenantId,
    RoleId,
    Permission,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    TenantId,
    UserId,
    RoleId,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Id,
    ToAddress,
    Subject,
    BodyText,
    Status,
    Attempts,
    LastError,
    NextAttemptAt,
    LockedUntil,
    CreatedAt,
    SentAt,
}

fn fk(
    name: &str,
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(pk_uuid(Users::Id))
                .col(string_uniq(Users::Email))
                .col(string(Users::Name))
                .col(string(Users::PasswordHash))
                .col(timestamp_with_time_zone_null(Users::EmailVerifiedAt))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(pk_uuid(Sessions::Id))
                .col(uuid(Sessions::UserId))
                .col(string_null(Sessions::UserAgent))
                .col(string_null(Sessions::Ip))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::LastUsedAt))
                .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                .col(string_null(Sessions::RevokedReason))
                .foreign_key(&mut fk(
                    "fk_sessions_user",
                    (Sessions::Table, Sessions::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create().name("idx_sessions_user").table(Sessions::Table).col(Sessions::UserId).to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(pk_uuid(RefreshTokens::Id))
                .col(uuid(RefreshTokens::SessionId))
                .col(string_uniq(RefreshTokens::TokenHash))
                .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::RotatedAt))
                .foreign_key(&mut fk(
                    "fk_refresh_tokens_session",
                    (RefreshTokens::Table, RefreshTokens::SessionId),
                    (Sessions::Table, Sessions::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserTokens::Table)
                .col(pk_uuid(UserTokens::Id))
                .col(uuid(UserTokens::UserId))
                .col(string(UserTokens::Kind))
                .col(string_uniq(UserTokens::TokenHash))
                .col(timestamp_with_time_zone(UserTokens::CreatedAt))
                .col(timestamp_with_time_zone(UserTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(UserTokens::UsedAt))
                .foreign_key(&mut fk(
                    "fk_user_tokens_user",
                    (UserTokens::Table, UserTokens::UserId),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Tenants::Table)
                .col(pk_uuid(Tenants::Id))
                .col(string(Tenants::Name))
                .col(string_uniq(Tenants::Slug))
                .col(string(Tenants::Status))
                .col(timestamp_with_time_zone(Tenants::CreatedAt))
                .col(timestamp_with_time_zone(Tenants::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Roles::Table)
                .col(pk_uuid(Roles::Id))
                .col(uuid(Roles::TenantId))
                .col(string(Roles::Key))
                .col(string(Roles::Name))
                .col(string(Roles::Description))
                .col(boolean(Roles::IsBuiltin))
                .col(timestamp_with_time_zone(Roles::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_roles_tenant",
                    (Roles::Table, Roles::TenantId),
                    (Tenants::Table, Tenants::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_roles_tenant_key")
                .table(Roles::Table)
                .col(Roles::TenantId)
                .col(Roles::Key)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RolePermissions::Table)
                .col(uuid(RolePermissions::TenantId))
                .col(uuid(RolePermissions::RoleId))
                .col(string(RolePermissions::Permission))
                .primary_key(Index::create().col(RolePermissions::RoleId).col(RolePermissions::Permission))
                .foreign_key(&mut fk(
                    "fk_role_permissions_role",
                    (RolePermissions::Table, RolePermissions::RoleId),
                    (Roles::Table, Roles::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_role_permissions_tenant",
                    (RolePermissions::Table, RolePermissions::TenantId),
                    (Tenants::Table, Tenants::Id),
                ))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Memberships::Table)
                .col(pk_uuid(Memberships::Id))
                .col(uuid(Memberships::TenantId))
                .col(uuid(Memberships::UserId))
                .col(uuid(Memberships::RoleId))
                .col(string(Memberships::Status))
                .col(timestamp_with_time_zone(Memberships::CreatedAt))
                .col(timestamp_with_time_zone(Memberships::UpdatedAt))
                .foreign_key(&mut fk(
                    "fk_memberships_tenant",
                    (Memberships::Table, Memberships::TenantId),
                    (Tenants::Table, Tenants::Id),
                ))
                .foreign_key(&mut fk(
                    "fk_memberships_user",
                    (Memberships::Table, Memberships::UserId),
                    (Users::Table, Users::Id),
                ))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_memberships_role")
                        .from(Memberships::Table, Memberships::RoleId)
                        .to(Roles::Table, Roles::Id)
                        .on_delete(ForeignKeyAction::Restrict),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_memberships_tenant_user")
                .table(Memberships::Table)
                .col(Memberships::TenantId)
                .col(Memberships::UserId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_memberships_user")
                .table(Memberships::Table)
                .col(Memberships::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(MailOutbox::Table)
                .col(pk_uuid(MailOutbox::Id))
                .col(string(MailOutbox::ToAddress))
                .col(string(MailOutbox::Subject))
                .col(text(MailOutbox::BodyText))
                .col(string(MailOutbox::Status))
                .col(integer(MailOutbox::Attempts))
                .col(text_null(MailOutbox::LastError))
                .col(timestamp_with_time_zone(MailOutbox::NextAttemptAt))
                .col(timestamp_with_time_zone_null(MailOutbox::LockedUntil))
                .col(timestamp_with_time_zone(MailOutbox::CreatedAt))
                .col(timestamp_with_time_zone_null(MailOutbox::SentAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_mail_outbox_pending")
                .table(MailOutbox::Table)
                .col(MailOutbox::Status)
                .col(MailOutbox::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            MailOutbox::Table.into_iden(),
            Memberships::Table.into_iden(),
            RolePermissions::Table.into_iden(),
            Roles::Table.into_iden(),
            Tenants::Table.into_iden(),
            UserTokens::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
