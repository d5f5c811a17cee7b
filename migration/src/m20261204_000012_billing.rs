//! Billing: each organisation's billing account (provider customer, tax rate and address,
//! credit balance), its subscriptions (one current row per organisation; ended ones are
//! kept), invoices with gapless per-issuer numbers, and usage counters per period.
//!
//! `invoice_sequences` and `payment_webhook_events` are the platform's own tables (one row per
//! issuer and year, numbers handed out inside the invoice's transaction; provider events by
//! id), outside row-level security.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000012_billing"
    }
}

/// The billing tables that belong to one tenant (walled like the others).
pub const TENANT_TABLES: &[(&str, &str)] = &[
    ("billing_accounts", "tenant_id"),
    ("subscriptions", "tenant_id"),
    ("invoices", "tenant_id"),
    ("usage_counters", "tenant_id"),
];

#[derive(DeriveIden)]
enum BillingAccounts {
    Table,
    Id,
    TenantId,
    Provider,
    ProviderCustomerId,
    ProviderPaymentMethodId,
    Currency,
    TaxRateBps,
    TaxId,
    BillingAddress,
    CreditBalance,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Subscriptions {
    Table,
    Id,
    TenantId,
    CurrentFor,
    PlanKey,
    PlanVersion,
    Status,
    Interval,
    Currency,
    UnitAmount,
    CurrentPeriodStart,
    CurrentPeriodEnd,
    TrialEnd,
    CancelAtPeriodEnd,
    CanceledAt,
    ScheduledPlanKey,
    ScheduledInterval,
    FailedRenewals,
    NextRetryAt,
    PastDueSince,
    Revision,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Invoices {
    Table,
    Id,
    TenantId,
    SubscriptionId,
    Number,
    Status,
    Currency,
    Subtotal,
    Tax,
    Total,
    CreditApplied,
    AmountDue,
    Lines,
    PeriodStart,
    PeriodEnd,
    IssuedAt,
    DueAt,
    PaidAt,
    IdempotencyKey,
    ProviderPaymentId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum InvoiceSequences {
    Table,
    Series,
    LastNumber,
}

#[derive(DeriveIden)]
enum UsageCounters {
    Table,
    Id,
    TenantId,
    Metric,
    Period,
    Value,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum PaymentWebhookEvents {
    Table,
    Id,
    Provider,
    EventId,
    EventType,
    ForTenantId,
    Outcome,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

fn tenant_fk(name: &str, from: impl IntoTableRef, col: impl IntoIden) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from, col)
        .to(Tenants::Table, Tenants::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(BillingAccounts::Table)
                .col(pk_uuid(BillingAccounts::Id))
                .col(uuid_uniq(BillingAccounts::TenantId))
                .col(string(BillingAccounts::Provider))
                .col(string_null(BillingAccounts::ProviderCustomerId))
                .col(string_null(BillingAccounts::ProviderPaymentMethodId))
                .col(string_len(BillingAccounts::Currency, 3))
                .col(integer(BillingAccounts::TaxRateBps).default(0))
                .col(string_null(BillingAccounts::TaxId))
                .col(text(BillingAccounts::BillingAddress).default("{}"))
                .col(big_integer(BillingAccounts::CreditBalance).default(0))
                .col(timestamp_with_time_zone(BillingAccounts::CreatedAt))
                .col(timestamp_with_time_zone(BillingAccounts::UpdatedAt))
                .foreign_key(&mut tenant_fk(
                    "fk_billing_accounts_tenant",
                    BillingAccounts::Table,
                    BillingAccounts::TenantId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Subscriptions::Table)
                .col(pk_uuid(Subscriptions::Id))
                .col(uuid(Subscriptions::TenantId))
                // The tenant's id while this is its current subscription, else null: the
                // unique index keeps one current subscription per organisation.
                .col(uuid_null(Subscriptions::CurrentFor))
                .col(string(Subscriptions::PlanKey))
                .col(integer(Subscriptions::PlanVersion))
                .col(string(Subscriptions::Status))
                .col(string(Subscriptions::Interval))
                .col(string_len(Subscriptions::Currency, 3))
                .col(big_integer(Subscriptions::UnitAmount))
                .col(timestamp_with_time_zone(Subscriptions::CurrentPeriodStart))
                .col(timestamp_with_time_zone(Subscriptions::CurrentPeriodEnd))
                .col(timestamp_with_time_zone_null(Subscriptions::TrialEnd))
                .col(boolean(Subscriptions::CancelAtPeriodEnd).default(false))
                .col(timestamp_with_time_zone_null(Subscriptions::CanceledAt))
                .col(string_null(Subscriptions::ScheduledPlanKey))
                .col(string_null(Subscriptions::ScheduledInterval))
                .col(integer(Subscriptions::FailedRenewals).default(0))
                .col(timestamp_with_time_zone_null(Subscriptions::NextRetryAt))
                .col(timestamp_with_time_zone_null(Subscriptions::PastDueSince))
                .col(integer(Subscriptions::Revision).default(0))
                .col(timestamp_with_time_zone(Subscriptions::CreatedAt))
                .col(timestamp_with_time_zone(Subscriptions::UpdatedAt))
                .foreign_key(&mut tenant_fk(
                    "fk_subscriptions_tenant",
                    Subscriptions::Table,
                    Subscriptions::TenantId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_subscriptions_current")
                .table(Subscriptions::Table)
                .col(Subscriptions::CurrentFor)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_subscriptions_tenant")
                .table(Subscriptions::Table)
                .col(Subscriptions::TenantId)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_subscriptions_period_end")
                .table(Subscriptions::Table)
                .col(Subscriptions::CurrentPeriodEnd)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Invoices::Table)
                .col(pk_uuid(Invoices::Id))
                .col(uuid(Invoices::TenantId))
                .col(uuid_null(Invoices::SubscriptionId))
                .col(string_uniq(Invoices::Number))
                .col(string(Invoices::Status))
                .col(string_len(Invoices::Currency, 3))
                .col(big_integer(Invoices::Subtotal))
                .col(big_integer(Invoices::Tax))
                .col(big_integer(Invoices::Total))
                .col(big_integer(Invoices::CreditApplied))
                .col(big_integer(Invoices::AmountDue))
                .col(text(Invoices::Lines))
                .col(timestamp_with_time_zone(Invoices::PeriodStart))
                .col(timestamp_with_time_zone(Invoices::PeriodEnd))
                .col(timestamp_with_time_zone(Invoices::IssuedAt))
                .col(timestamp_with_time_zone(Invoices::DueAt))
                .col(timestamp_with_time_zone_null(Invoices::PaidAt))
                .col(string_uniq(Invoices::IdempotencyKey))
                .col(string_null(Invoices::ProviderPaymentId))
                .col(timestamp_with_time_zone(Invoices::CreatedAt))
                .foreign_key(&mut tenant_fk("fk_invoices_tenant", Invoices::Table, Invoices::TenantId))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_invoices_tenant")
                .table(Invoices::Table)
                .col(Invoices::TenantId)
                .col(Invoices::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(InvoiceSequences::Table)
                .col(string(InvoiceSequences::Series).primary_key())
                .col(big_integer(InvoiceSequences::LastNumber))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(UsageCounters::Table)
                .col(pk_uuid(UsageCounters::Id))
                .col(uuid(UsageCounters::TenantId))
                .col(string(UsageCounters::Metric))
                .col(string(UsageCounters::Period))
                .col(big_integer(UsageCounters::Value))
                .col(timestamp_with_time_zone(UsageCounters::UpdatedAt))
                .foreign_key(&mut tenant_fk(
                    "fk_usage_counters_tenant",
                    UsageCounters::Table,
                    UsageCounters::TenantId,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_usage_counters")
                .table(UsageCounters::Table)
                .col(UsageCounters::TenantId)
                .col(UsageCounters::Metric)
                .col(UsageCounters::Period)
                .unique()
                .to_owned(),
        )
        .await?;
        // Provider webhook events by their provider's id: applied exactly once, replays ignored.
        // The platform's own table (the tenant is known only after the event is read).
        m.create_table(
            Table::create()
                .table(PaymentWebhookEvents::Table)
                .col(pk_uuid(PaymentWebhookEvents::Id))
                .col(string(PaymentWebhookEvents::Provider))
                .col(string(PaymentWebhookEvents::EventId))
                .col(string(PaymentWebhookEvents::EventType))
                .col(uuid_null(PaymentWebhookEvents::ForTenantId))
                .col(string(PaymentWebhookEvents::Outcome))
                .col(timestamp_with_time_zone(PaymentWebhookEvents::ReceivedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_payment_webhook_events")
                .table(PaymentWebhookEvents::Table)
                .col(PaymentWebhookEvents::Provider)
                .col(PaymentWebhookEvents::EventId)
                .unique()
                .to_owned(),
        )
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "payment_webhook_events",
            "usage_counters",
            "invoice_sequences",
            "invoices",
            "subscriptions",
            "billing_accounts",
        ] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
