//! Records copied into further folders. A record has one home folder (`folder_id`; its
//! identity — organisation, platform, service type, external ID — is unique, so collecting it
//! again updates it); a copy shows it in another folder of its project as well, without a
//! second row to drift apart. A copy goes with its record and with its folder.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261204_000045_collection_catalog::{c, fk, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000028_collection_record_copies"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] = &[("collection_record_copies", "tenant_id")];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(c("collection_record_copies"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("record_id")))
                .col(uuid(c("folder_id")))
                .col(timestamp_with_time_zone(c("created_at")))
                .foreign_key(&mut fk("collection_record_copies", "record_id", "collection_records"))
                .foreign_key(&mut fk("collection_record_copies", "folder_id", "collection_folders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_collection_record_copies_folder",
            "collection_record_copies",
            &["folder_id", "record_id"],
            true,
        ))
        .await?;
        m.create_index(index(
            "ix_collection_record_copies_record",
            "collection_record_copies",
            &["record_id"],
            false,
        ))
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(c("collection_record_copies")).to_owned()).await
    }
}
