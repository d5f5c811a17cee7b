//! Projects: an organisation's units of collection work (folders, jobs and saved searches
//! belong to one), and their members with a project role. Both tables are tenant-owned and
//! walled.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261204_000045_collection_catalog::{c, fk, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000046_projects"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] = &[("projects", "tenant_id"), ("project_members", "tenant_id")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(c("projects"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(string(c("name")))
                .col(text(c("description")))
                .col(json(c("settings")))
                .col(uuid_null(c("created_by")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .foreign_key(&mut fk("projects", "tenant_id", "tenants"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_projects_name", "projects", &["tenant_id", "name"], true)).await?;
        m.create_table(
            Table::create()
                .table(c("project_members"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("project_id")))
                .col(uuid(c("user_id")))
                .col(string(c("role")))
                .col(timestamp_with_time_zone(c("created_at")))
                .foreign_key(&mut fk("project_members", "project_id", "projects"))
                .foreign_key(&mut fk("project_members", "user_id", "users"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ux_project_members", "project_members", &["project_id", "user_id"], true))
            .await?;
        m.create_index(index("ix_project_members_user", "project_members", &["tenant_id", "user_id"], false))
            .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(c("project_members")).to_owned()).await?;
        m.drop_table(Table::drop().table(c("projects")).to_owned()).await
    }
}
