//! Outbound webhooks: an organisation's endpoints and the log of every delivery attempt.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000018_webhooks"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] =
    &[("webhook_endpoints", "tenant_id"), ("webhook_deliveries", "tenant_id")];

#[derive(DeriveIden)]
enum WebhookEndpoints {
    Table,
    Id,
    TenantId,
    Url,
    Description,
    EventTypes,
    Enabled,
    DisabledReason,
    Secret,
    PreviousSecret,
    PreviousSecretExpiresAt,
    ConsecutiveFailures,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    TenantId,
    EndpointId,
    MessageId,
    EventType,
    Attempt,
    Payload,
    ResponseStatus,
    ResponseExcerpt,
    Error,
    DurationMs,
    Succeeded,
    CreatedAt,
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
                .table(WebhookEndpoints::Table)
                .col(pk_uuid(WebhookEndpoints::Id))
                .col(uuid(WebhookEndpoints::TenantId))
                .col(string(WebhookEndpoints::Url))
                .col(string(WebhookEndpoints::Description))
                .col(json(WebhookEndpoints::EventTypes))
                .col(boolean(WebhookEndpoints::Enabled))
                .col(string_null(WebhookEndpoints::DisabledReason))
                .col(text(WebhookEndpoints::Secret))
                .col(text_null(WebhookEndpoints::PreviousSecret))
                .col(timestamp_with_time_zone_null(WebhookEndpoints::PreviousSecretExpiresAt))
                .col(integer(WebhookEndpoints::ConsecutiveFailures).default(0))
                .col(uuid_null(WebhookEndpoints::CreatedBy))
                .col(timestamp_with_time_zone(WebhookEndpoints::CreatedAt))
                .col(timestamp_with_time_zone(WebhookEndpoints::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookEndpoints::Table, WebhookEndpoints::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_endpoints_tenant")
                .table(WebhookEndpoints::Table)
                .col(WebhookEndpoints::TenantId)
                .col(WebhookEndpoints::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(pk_uuid(WebhookDeliveries::Id))
                .col(uuid(WebhookDeliveries::TenantId))
                .col(uuid(WebhookDeliveries::EndpointId))
                .col(string(WebhookDeliveries::MessageId))
                .col(string(WebhookDeliveries::EventType))
                .col(integer(WebhookDeliveries::Attempt))
                .col(json(WebhookDeliveries::Payload))
                .col(integer_null(WebhookDeliveries::ResponseStatus))
                .col(text_null(WebhookDeliveries::ResponseExcerpt))
                .col(text_null(WebhookDeliveries::Error))
                .col(big_integer(WebhookDeliveries::DurationMs))
                .col(boolean(WebhookDeliveries::Succeeded))
                .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(WebhookDeliveries::Table, WebhookDeliveries::EndpointId)
                        .to(WebhookEndpoints::Table, WebhookEndpoints::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_webhook_deliveries_endpoint")
                .table(WebhookDeliveries::Table)
                .col(WebhookDeliveries::EndpointId)
                .col(WebhookDeliveries::Id)
                .to_owned(),
        )
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(WebhookEndpoints::Table).to_owned()).await
    }
}
