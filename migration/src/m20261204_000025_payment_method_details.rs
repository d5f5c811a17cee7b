//! What an organisation pays with, as its provider describes it (card brand, last four digits
//! and expiry, or a PayPal account's address — never a number), and which provider took each
//! invoice's payment: a refund goes back through that one even after the organisation has
//! switched providers.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000025_payment_method_details"
    }
}

#[derive(DeriveIden)]
enum BillingAccounts {
    Table,
    PaymentMethod,
}

#[derive(DeriveIden)]
enum Invoices {
    Table,
    PaymentProvider,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(BillingAccounts::Table)
                    .add_column(text_null(BillingAccounts::PaymentMethod))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Invoices::Table)
                    .add_column(string_null(Invoices::PaymentProvider))
                    .to_owned(),
            )
            .await?;
        // Invoices paid before this column existed were paid through the account's provider.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE invoices SET payment_provider = (SELECT b.provider FROM billing_accounts b \
                 WHERE b.tenant_id = invoices.tenant_id) WHERE provider_payment_id IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Invoices::Table).drop_column(Invoices::PaymentProvider).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(BillingAccounts::Table)
                    .drop_column(BillingAccounts::PaymentMethod)
                    .to_owned(),
            )
            .await
    }
}
