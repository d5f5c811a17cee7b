//! Networks, firewalls and load balancers (issue 20): resources made through a provider
//! account whose desired shape (`spec`) Zygo holds and converges the provider to, Terraform
//! style. One table for the three kinds — they share their whole lifecycle and differ only in
//! their spec. Tenant-owned and walled.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261204_000045_collection_catalog::{c, fk, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000030_network_resources"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] = &[("cloud_network_resources", "tenant_id")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(c("cloud_network_resources"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("provider_id")))
                // network, firewall or load_balancer.
                .col(string(c("kind")))
                .col(string(c("name")))
                .col(string(c("status")))
                .col(string_null(c("external_id")))
                .col(json(c("labels")))
                // The desired shape (servers named by Zygo's ids).
                .col(json(c("spec")))
                // What the reconciler last found different at the provider, while drifted.
                .col(json_null(c("observed")))
                // A load balancer's public address.
                .col(string_null(c("public_ip")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .foreign_key(&mut fk("cloud_network_resources", "provider_id", "cloud_providers"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_cloud_network_resources_name",
            "cloud_network_resources",
            &["tenant_id", "provider_id", "kind", "name"],
            true,
        ))
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(c("cloud_network_resources")).to_owned()).await
    }
}
