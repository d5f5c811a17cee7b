//! Notifications: a user's inbox (in-app entries, and what is still to be mailed at once or in
//! the daily digest) and their typed preferences per kind and channel, replacing the opaque
//! `notifications` JSON of the account preferences.
//!
//! Both tables belong to a *user*, not to an organisation: a person's inbox spans every
//! organisation they are in and nobody else reads it (like sessions). The organisation a
//! notification or a preference concerns is therefore `organisation_id`, a reference that
//! cascades when the organisation goes, not a `tenant_id` behind the tenant wall; the service
//! reads only the viewer's own rows and shows an organisation's only while they are a member.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000019_notifications"
    }
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    Id,
    UserId,
    OrganisationId,
    Kind,
    Title,
    Body,
    Link,
    Data,
    InApp,
    EmailPending,
    DigestPending,
    ReadAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum NotificationPreferences {
    Table,
    Id,
    UserId,
    OrganisationId,
    Kind,
    Channel,
    Enabled,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
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
                .table(Notifications::Table)
                .col(pk_uuid(Notifications::Id))
                .col(uuid(Notifications::UserId))
                .col(uuid_null(Notifications::OrganisationId))
                .col(string(Notifications::Kind))
                .col(string(Notifications::Title))
                .col(text(Notifications::Body))
                .col(string_null(Notifications::Link))
                .col(json(Notifications::Data))
                .col(boolean(Notifications::InApp))
                .col(boolean(Notifications::EmailPending))
                .col(boolean(Notifications::DigestPending))
                .col(timestamp_with_time_zone_null(Notifications::ReadAt))
                .col(timestamp_with_time_zone(Notifications::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Notifications::Table, Notifications::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Notifications::Table, Notifications::OrganisationId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notifications_user")
                .table(Notifications::Table)
                .col(Notifications::UserId)
                .col(Notifications::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(NotificationPreferences::Table)
                .col(pk_uuid(NotificationPreferences::Id))
                .col(uuid(NotificationPreferences::UserId))
                .col(uuid_null(NotificationPreferences::OrganisationId))
                .col(string(NotificationPreferences::Kind))
                .col(string(NotificationPreferences::Channel))
                .col(boolean(NotificationPreferences::Enabled))
                .col(timestamp_with_time_zone(NotificationPreferences::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(NotificationPreferences::Table, NotificationPreferences::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(NotificationPreferences::Table, NotificationPreferences::OrganisationId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_notification_preferences_user")
                .table(NotificationPreferences::Table)
                .col(NotificationPreferences::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(NotificationPreferences::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Notifications::Table).to_owned()).await
    }
}
