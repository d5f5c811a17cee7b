//! Where a queued mail comes from: the tenant whose workflow sent it (platform mail —
//! verification, invitations, alerts — has none), how its `X-Zygo-Tenant` header names that
//! tenant, and the address replies go to. The outbox stays the platform's own table, outside
//! row-level security: its worker sends for every tenant, and the tenant column serves the
//! per-tenant sending budget.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261203_000011_mail_origin"
    }
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    TenantId,
    TenantLabel,
    ReplyTo,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table(MailOutbox::Table)
                    .add_column(uuid_null(MailOutbox::TenantId))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MailOutbox::Table)
                    .add_column(string_null(MailOutbox::TenantLabel))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(MailOutbox::Table)
                    .add_column(string_null(MailOutbox::ReplyTo))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("mail_outbox_tenant_created")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::TenantId)
                    .col(MailOutbox::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name("mail_outbox_tenant_created").table(MailOutbox::Table).to_owned())
            .await?;
        manager
            .alter_table(Table::alter().table(MailOutbox::Table).drop_column(MailOutbox::ReplyTo).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter().table(MailOutbox::Table).drop_column(MailOutbox::TenantLabel).to_owned(),
            )
            .await?;
        manager
            .alter_table(Table::alter().table(MailOutbox::Table).drop_column(MailOutbox::TenantId).to_owned())
            .await
    }
}
