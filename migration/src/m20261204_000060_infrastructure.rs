//! Infrastructure (issue 20, first slice): an organisation's cloud provider accounts (sealed
//! credentials), the servers, volumes, DNS zones and records made through them, the durable
//! provider actions that make every change, and the local provider's simulated cloud. Every
//! table is tenant-owned and walled.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261204_000045_collection_catalog::{c, fk, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000060_infrastructure"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] = &[
    ("cloud_providers", "tenant_id"),
    ("cloud_servers", "tenant_id"),
    ("cloud_volumes", "tenant_id"),
    ("dns_zones", "tenant_id"),
    ("dns_records", "tenant_id"),
    ("infrastructure_actions", "tenant_id"),
    ("local_cloud_objects", "tenant_id"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(c("cloud_providers"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(string(c("kind")))
                .col(string(c("name")))
                .col(text(c("credentials")))
                .col(timestamp_with_time_zone_null(c("validated_at")))
                .col(uuid_null(c("created_by")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .foreign_key(&mut fk("cloud_providers", "tenant_id", "tenants"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_cloud_providers_name", "cloud_providers", &["tenant_id", "name"], true))
            .await?;
        m.create_table(
            Table::create()
                .table(c("cloud_servers"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("provider_id")))
                .col(string(c("name")))
                .col(string(c("server_type")))
                .col(string(c("image")))
                .col(string(c("location")))
                .col(string(c("status")))
                .col(string_null(c("external_id")))
                .col(string_null(c("ipv4")))
                .col(json(c("labels")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .foreign_key(&mut fk("cloud_servers", "provider_id", "cloud_providers"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_cloud_servers_name", "cloud_servers", &["provider_id", "name"], true))
            .await?;
        m.create_table(
            Table::create()
                .table(c("cloud_volumes"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("provider_id")))
                .col(uuid_null(c("server_id")))
                .col(string(c("name")))
                .col(integer(c("size_gb")))
                .col(string(c("location")))
                .col(string(c("status")))
                .col(string_null(c("external_id")))
                .col(json(c("labels")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .foreign_key(&mut fk("cloud_volumes", "provider_id", "cloud_providers"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_cloud_volumes_name", "cloud_volumes", &["provider_id", "name"], true))
            .await?;
        m.create_table(
            Table::create()
                .table(c("dns_zones"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("provider_id")))
                .col(string(c("name")))
                .col(integer(c("ttl")))
                .col(string(c("status")))
                .col(string_null(c("external_id")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .foreign_key(&mut fk("dns_zones", "provider_id", "cloud_providers"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_dns_zones_name", "dns_zones", &["provider_id", "name"], true)).await?;
        m.create_table(
            Table::create()
                .table(c("dns_records"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("zone_id")))
                .col(string(c("record_type")))
                .col(string(c("name")))
                .col(text(c("value")))
                .col(integer(c("ttl")))
                .col(string(c("status")))
                .col(string_null(c("external_id")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .foreign_key(&mut fk("dns_records", "zone_id", "dns_zones"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_dns_records_zone", "dns_records", &["zone_id", "id"], false)).await?;
        m.create_table(
            Table::create()
                .table(c("infrastructure_actions"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("provider_id")))
                .col(string(c("kind")))
                .col(string(c("target_type")))
                .col(uuid(c("target_id")))
                .col(string(c("status")))
                .col(integer(c("progress")))
                .col(json(c("params")))
                .col(string_null(c("error_code")))
                .col(text_null(c("error")))
                .col(string(c("idempotency_key")))
                .col(uuid_null(c("requested_by")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .col(timestamp_with_time_zone_null(c("finished_at")))
                .foreign_key(&mut fk("infrastructure_actions", "provider_id", "cloud_providers"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_infrastructure_actions_key",
            "infrastructure_actions",
            &["tenant_id", "idempotency_key"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_infrastructure_actions_target",
            "infrastructure_actions",
            &["target_id"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(c("local_cloud_objects"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("provider_id")))
                .col(string(c("kind")))
                .col(string(c("external_id")))
                .col(json(c("labels")))
                .col(json(c("data")))
                .col(timestamp_with_time_zone(c("created_at")))
                .foreign_key(&mut fk("local_cloud_objects", "provider_id", "cloud_providers"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_local_cloud_objects_ext",
            "local_cloud_objects",
            &["provider_id", "kind", "external_id"],
            true,
        ))
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "local_cloud_objects",
            "infrastructure_actions",
            "dns_records",
            "dns_zones",
            "cloud_volumes",
            "cloud_servers",
            "cloud_providers",
        ] {
            m.drop_table(Table::drop().table(c(t)).to_owned()).await?;
        }
        Ok(())
    }
}
