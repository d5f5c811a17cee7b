//! Floating IPs (issue 20): addresses reserved through a provider account, assigned to one of
//! its servers or to none, with a reverse DNS name. Tenant-owned and walled.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261204_000045_collection_catalog::{c, fk, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000029_floating_ips"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] = &[("cloud_floating_ips", "tenant_id")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(c("cloud_floating_ips"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("provider_id")))
                // The server it is assigned to, if any.
                .col(uuid_null(c("server_id")))
                .col(string(c("name")))
                // ipv4 or ipv6.
                .col(string(c("ip_type")))
                .col(string(c("home_location")))
                .col(string(c("description")))
                // The address, once the provider reserved it.
                .col(string_null(c("ip")))
                .col(string_null(c("dns_ptr")))
                .col(string(c("status")))
                .col(string_null(c("external_id")))
                .col(json(c("labels")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .foreign_key(&mut fk("cloud_floating_ips", "provider_id", "cloud_providers"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_cloud_floating_ips_name",
            "cloud_floating_ips",
            &["tenant_id", "provider_id", "name"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_cloud_floating_ips_server",
            "cloud_floating_ips",
            &["tenant_id", "server_id"],
            false,
        ))
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(c("cloud_floating_ips")).to_owned()).await
    }
}
