//! Profile fields and preferences on users; the active tenant on sessions.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261121_000004_profile_and_sessions"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    AvatarUrl,
    Locale,
    TimeZone,
    Preferences,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    ActiveTenantId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one column at a time.
        for col in [
            string_null(Users::AvatarUrl),
            string_null(Users::Locale),
            string_null(Users::TimeZone),
            json_null(Users::Preferences),
        ] {
            let mut col = col;
            m.alter_table(Table::alter().table(Users::Table).add_column(&mut col).to_owned()).await?;
        }
        m.alter_table(
            Table::alter().table(Sessions::Table).add_column(uuid_null(Sessions::ActiveTenantId)).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Sessions::Table).drop_column(Sessions::ActiveTenantId).to_owned())
            .await?;
        for col in [Users::AvatarUrl, Users::Locale, Users::TimeZone, Users::Preferences] {
            m.alter_table(Table::alter().table(Users::Table).drop_column(col).to_owned()).await?;
        }
        Ok(())
    }
}
