//! Consents: which version of which policy document (terms, privacy policy) a person accepted,
//! when and from where. A person's own record (exported with their data, erased with them).

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000022_policy_acceptances"
    }
}

#[derive(DeriveIden)]
enum PolicyAcceptances {
    Table,
    Id,
    UserId,
    Kind,
    Version,
    AcceptedAt,
    Ip,
    UserAgent,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PolicyAcceptances::Table)
                .col(pk_uuid(PolicyAcceptances::Id))
                .col(uuid(PolicyAcceptances::UserId))
                .col(string(PolicyAcceptances::Kind))
                .col(string(PolicyAcceptances::Version))
                .col(timestamp_with_time_zone(PolicyAcceptances::AcceptedAt))
                .col(string_null(PolicyAcceptances::Ip))
                .col(string_null(PolicyAcceptances::UserAgent))
                .foreign_key(
                    ForeignKey::create()
                        .from(PolicyAcceptances::Table, PolicyAcceptances::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_policy_acceptances")
                .table(PolicyAcceptances::Table)
                .col(PolicyAcceptances::UserId)
                .col(PolicyAcceptances::Kind)
                .col(PolicyAcceptances::Version)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PolicyAcceptances::Table).to_owned()).await
    }
}
