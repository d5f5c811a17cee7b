//! Collection jobs (one provider run: its service, state, snapshot id, counts, error) and
//! their inputs (one request row per normalised URL). Both tables are tenant-owned and walled.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261204_000045_collection_catalog::{c, fk, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000048_collection_jobs"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] =
    &[("collection_jobs", "tenant_id"), ("collection_job_inputs", "tenant_id")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(c("collection_jobs"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("project_id")))
                .col(uuid(c("folder_id")))
                .col(uuid(c("service_id")))
                .col(string(c("provider")))
                .col(string(c("status")))
                .col(string_null(c("snapshot_id")))
                .col(json(c("parameters")))
                .col(integer(c("input_count")))
                .col(integer(c("record_count")))
                .col(integer(c("error_count")))
                .col(text_null(c("error")))
                .col(uuid_null(c("created_by")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .col(timestamp_with_time_zone_null(c("finished_at")))
                .foreign_key(&mut fk("collection_jobs", "project_id", "projects"))
                .foreign_key(&mut fk("collection_jobs", "folder_id", "collection_folders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_collection_jobs_project", "collection_jobs", &["project_id", "id"], false))
            .await?;
        m.create_index(index("ux_collection_jobs_snapshot", "collection_jobs", &["snapshot_id"], true))
            .await?;
        m.create_table(
            Table::create()
                .table(c("collection_job_inputs"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("job_id")))
                .col(integer(c("position")))
                .col(text(c("url")))
                .col(string(c("status")))
                .col(text_null(c("error")))
                .foreign_key(&mut fk("collection_job_inputs", "job_id", "collection_jobs"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_collection_job_inputs_job",
            "collection_job_inputs",
            &["job_id", "position"],
            true,
        ))
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(c("collection_job_inputs")).to_owned()).await?;
        m.drop_table(Table::drop().table(c("collection_jobs")).to_owned()).await
    }
}
