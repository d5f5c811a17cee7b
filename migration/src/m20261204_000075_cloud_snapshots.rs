//! Snapshots (issue 20): images of a server's disk made through its provider account, kept
//! after the server is gone and restorable onto a server (a rebuild). Tenant-owned and walled.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261204_000045_collection_catalog::{c, fk, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000075_cloud_snapshots"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] = &[("cloud_snapshots", "tenant_id")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(c("cloud_snapshots"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("provider_id")))
                // The server it was taken of (none once that server is deleted).
                .col(uuid_null(c("server_id")))
                .col(string(c("description")))
                .col(string(c("status")))
                .col(string_null(c("external_id")))
                .col(double_null(c("size_gb")))
                .col(json(c("labels")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .foreign_key(&mut fk("cloud_snapshots", "provider_id", "cloud_providers"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_cloud_snapshots_server",
            "cloud_snapshots",
            &["tenant_id", "server_id"],
            false,
        ))
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(c("cloud_snapshots")).to_owned()).await
    }
}
