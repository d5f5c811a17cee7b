//! Exports of a folder's collected records (CSV, JSON Lines or Excel), each built by a
//! background job into the file store: the folder and the filters asked for, the format, the
//! state with its progress (rows written of the rows matching when it started), the stored
//! file's key and size, and who asked. Tenant-owned and walled; an export goes with its
//! folder (and its project).

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261204_000045_collection_catalog::{c, fk, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000056_collection_exports"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] = &[("collection_exports", "tenant_id")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(c("collection_exports"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("project_id")))
                .col(uuid(c("folder_id")))
                .col(string(c("format")))
                .col(json(c("filter")))
                .col(string(c("status")))
                .col(big_integer(c("total_rows")))
                .col(big_integer(c("written_rows")))
                .col(string_null(c("storage_key")))
                .col(big_integer_null(c("size_bytes")))
                .col(text_null(c("error")))
                .col(uuid_null(c("created_by")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .col(timestamp_with_time_zone_null(c("finished_at")))
                .foreign_key(&mut fk("collection_exports", "project_id", "projects"))
                .foreign_key(&mut fk("collection_exports", "folder_id", "collection_folders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_collection_exports_folder",
            "collection_exports",
            &["folder_id", "id"],
            false,
        ))
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(c("collection_exports")).to_owned()).await
    }
}
