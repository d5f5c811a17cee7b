//! Refunds of paid invoices (one row per refund, keyed by the idempotency key it was sent
//! with, walled per tenant) and the platform's mapping from Zygo's plans to a provider's own
//! plan objects (PayPal Subscriptions' products and billing plans), so a plan is created at
//! the provider once and reused.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000017_refunds_and_provider_plans"
    }
}

/// The tables of this migration that belong to one tenant.
pub const TENANT_TABLES: &[(&str, &str)] = &[("invoice_refunds", "tenant_id")];

#[derive(DeriveIden)]
enum InvoiceRefunds {
    Table,
    Id,
    TenantId,
    InvoiceId,
    Provider,
    Amount,
    Currency,
    IdempotencyKey,
    ProviderRefundId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ProviderPlans {
    Table,
    Id,
    Provider,
    Key,
    ProviderId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Invoices {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(InvoiceRefunds::Table)
                .col(pk_uuid(InvoiceRefunds::Id))
                .col(uuid(InvoiceRefunds::TenantId))
                .col(uuid(InvoiceRefunds::InvoiceId))
                .col(string(InvoiceRefunds::Provider))
                .col(big_integer(InvoiceRefunds::Amount))
                .col(string(InvoiceRefunds::Currency))
                .col(string(InvoiceRefunds::IdempotencyKey))
                .col(string_null(InvoiceRefunds::ProviderRefundId))
                .col(timestamp_with_time_zone(InvoiceRefunds::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_invoice_refunds_tenant")
                        .from(InvoiceRefunds::Table, InvoiceRefunds::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_invoice_refunds_invoice")
                        .from(InvoiceRefunds::Table, InvoiceRefunds::InvoiceId)
                        .to(Invoices::Table, Invoices::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // A refund is recorded once per key: a retried request finds its refund.
        m.create_index(
            Index::create()
                .name("uq_invoice_refunds_key")
                .table(InvoiceRefunds::Table)
                .col(InvoiceRefunds::TenantId)
                .col(InvoiceRefunds::IdempotencyKey)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_invoice_refunds_invoice")
                .table(InvoiceRefunds::Table)
                .col(InvoiceRefunds::InvoiceId)
                .to_owned(),
        )
        .await?;
        // The platform's own table: a provider plan serves every organisation on that plan.
        m.create_table(
            Table::create()
                .table(ProviderPlans::Table)
                .col(pk_uuid(ProviderPlans::Id))
                .col(string(ProviderPlans::Provider))
                .col(string(ProviderPlans::Key))
                .col(string(ProviderPlans::ProviderId))
                .col(timestamp_with_time_zone(ProviderPlans::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_provider_plans")
                .table(ProviderPlans::Table)
                .col(ProviderPlans::Provider)
                .col(ProviderPlans::Key)
                .unique()
                .to_owned(),
        )
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["provider_plans", "invoice_refunds"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
