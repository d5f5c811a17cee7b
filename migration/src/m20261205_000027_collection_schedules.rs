//! Auto-update of collection jobs: a job may re-collect its inputs every N hours. The job
//! keeps its interval (`repeat_every_hours`, null: once), when its next run is due once it
//! ended (`next_run_at`, null: none planned) and the first job of its chain (`repeat_of`, null
//! on that first one), so every run of one schedule can be listed together.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261205_000027_collection_schedules"
    }
}

#[derive(DeriveIden)]
enum CollectionJobs {
    Table,
    RepeatEveryHours,
    NextRunAt,
    RepeatOf,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column a statement: SQLite adds one at a time.
        for col in [
            integer_null(CollectionJobs::RepeatEveryHours),
            timestamp_with_time_zone_null(CollectionJobs::NextRunAt),
            uuid_null(CollectionJobs::RepeatOf),
        ] {
            let mut col = col;
            manager
                .alter_table(Table::alter().table(CollectionJobs::Table).add_column(&mut col).to_owned())
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for col in [CollectionJobs::RepeatEveryHours, CollectionJobs::NextRunAt, CollectionJobs::RepeatOf] {
            manager
                .alter_table(Table::alter().table(CollectionJobs::Table).drop_column(col).to_owned())
                .await?;
        }
        Ok(())
    }
}
