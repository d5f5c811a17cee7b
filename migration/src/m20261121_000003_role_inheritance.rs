//! Custom roles may inherit the permissions of a parent role of the same tenant.
//! (No foreign key: SQLite cannot add one to an existing table; the roles service checks
//! that a parent exists in the tenant and that the chain has no cycle.)

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261121_000003_role_inheritance"
    }
}

#[derive(DeriveIden)]
enum Roles {
    Table,
    ParentId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Roles::Table).add_column(uuid_null(Roles::ParentId)).to_owned())
            .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Roles::Table).drop_column(Roles::ParentId).to_owned()).await
    }
}
