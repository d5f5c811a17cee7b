//! Ordered webhook endpoints: a receiver that needs events in order gets one at a time, each
//! after the previous one was delivered or given up.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000021_webhook_ordering"
    }
}

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Ordered,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(WebhookEndpoints::Table)
                .add_column(boolean(WebhookEndpoints::Ordered).default(false))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(WebhookEndpoints::Table).drop_column(WebhookEndpoints::Ordered).to_owned(),
        )
        .await
    }
}
