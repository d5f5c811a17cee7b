//! Folders (a tree per project) and the normalised records collected into them. A record is
//! unique per (organisation, platform, service type, external id): seeing it again updates
//! its metrics. Both tables are tenant-owned and walled.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261204_000045_collection_catalog::{c, fk, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000047_collection_records"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] =
    &[("collection_folders", "tenant_id"), ("collection_records", "tenant_id")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(c("collection_folders"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("project_id")))
                .col(uuid_null(c("parent_id")))
                .col(string(c("name")))
                .col(json(c("tags")))
                .col(json(c("metadata")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .foreign_key(&mut fk("collection_folders", "project_id", "projects"))
                .foreign_key(&mut fk("collection_folders", "parent_id", "collection_folders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_collection_folders_project",
            "collection_folders",
            &["project_id", "parent_id"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(c("collection_records"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("folder_id")))
                .col(uuid_null(c("job_id")))
                .col(string(c("platform")))
                .col(string(c("service_type")))
                .col(string(c("external_id")))
                .col(text(c("url")))
                .col(string(c("author")))
                .col(text(c("text")))
                .col(json(c("hashtags")))
                .col(json(c("mentions")))
                .col(timestamp_with_time_zone_null(c("posted_at")))
                .col(big_integer(c("likes")))
                .col(big_integer(c("comments")))
                .col(big_integer(c("shares")))
                .col(big_integer(c("views")))
                .col(json(c("raw")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .foreign_key(&mut fk("collection_records", "folder_id", "collection_folders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_collection_records_identity",
            "collection_records",
            &["tenant_id", "platform", "service_type", "external_id"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_collection_records_folder",
            "collection_records",
            &["folder_id", "id"],
            false,
        ))
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(c("collection_records")).to_owned()).await?;
        m.drop_table(Table::drop().table(c("collection_folders")).to_owned()).await
    }
}
