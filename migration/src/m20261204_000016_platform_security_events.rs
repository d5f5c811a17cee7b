//! The platform's security log: events that belong to no user and no organisation, such as
//! a payment provider's webhook refused for a bad signature. The platform's own table
//! (outside row-level security); platform administrators read it
//! (`platformSecurityEvents`). Per-user events stay in `security_events`.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000016_platform_security_events"
    }
}

#[derive(DeriveIden)]
enum PlatformSecurityEvents {
    Table,
    Id,
    Kind,
    Source,
    Ip,
    Details,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(PlatformSecurityEvents::Table)
                .col(pk_uuid(PlatformSecurityEvents::Id))
                .col(string(PlatformSecurityEvents::Kind))
                .col(string(PlatformSecurityEvents::Source))
                .col(string_null(PlatformSecurityEvents::Ip))
                .col(json_null(PlatformSecurityEvents::Details))
                .col(timestamp_with_time_zone(PlatformSecurityEvents::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_platform_security_events_created")
                .table(PlatformSecurityEvents::Table)
                .col(PlatformSecurityEvents::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PlatformSecurityEvents::Table).to_owned()).await
    }
}
