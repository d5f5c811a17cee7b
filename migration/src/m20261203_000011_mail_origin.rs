//! Where a queued mail comes from: the tenant whose workflow sent it (platform mail —
//! verification, invitations, alerts — has none), how its `X-Zygo-Tenant` header names that
//! tenant, and the address replies go to. The outbox stays the platform's own table, outside
//! row-level security: its worker sends for every tenant. The sending tenant is named
//! `sender_tenant_id`, not `tenant_id`: the row is the platform's, not the tenant's (the
//! row-level security test walls every `tenant_id` column); it serves the per-tenant budget.

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
    SenderTenantId,
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
                    .add_column(uuid_null(MailOutbox::SenderTenantId))
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
                    .name("mail_outbox_sender_tenant_created")
                    .table(MailOutbox::Table)
                    .col(MailOutbox::SenderTenantId)
                    .col(MailOutbox::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop().name("mail_outbox_sender_tenant_created").table(MailOutbox::Table).to_owned(),
            )
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
            .alter_table(
                Table::alter().table(MailOutbox::Table).drop_column(MailOutbox::SenderTenantId).to_owned(),
            )
            .await
    }
}
