//! Rescue mode and root password resets (issue 20): whether a server boots into the provider's
//! rescue system, and the root password a rescue or reset action got from the provider —
//! sealed with the organisation's key until its requester reveals it once.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261204_000045_collection_catalog::c;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000031_server_root_access"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(c("cloud_servers"))
                .add_column(boolean(c("rescue_enabled")).default(false))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(c("infrastructure_actions"))
                .add_column(text_null(c("sealed_secret")))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter().table(c("infrastructure_actions")).drop_column(c("sealed_secret")).to_owned(),
        )
        .await?;
        m.alter_table(Table::alter().table(c("cloud_servers")).drop_column(c("rescue_enabled")).to_owned())
            .await
    }
}
