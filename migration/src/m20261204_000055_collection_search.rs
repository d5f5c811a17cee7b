//! Full-text search over collected records, saved searches and search history.
//!
//! SQLite: an FTS5 table with external content (`collection_records_fts`, its rowid is the
//! record's rowid) kept in step by triggers, filled from the records already there. After a
//! `VACUUM` (which may renumber rowids) run `INSERT INTO collection_records_fts
//! (collection_records_fts) VALUES ('rebuild')`. PostgreSQL: a generated `search_vector`
//! (`simple` configuration: no stemming, like FTS5's `unicode61`) with a GIN index. Both
//! index the text, the author and the hashtags.
//!
//! Saved searches (per project) and the search history (per user and project, for
//! suggestions) are tenant-owned and walled.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use crate::m20261204_000045_collection_catalog::{c, fk, index};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000055_collection_search"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] =
    &[("collection_saved_searches", "tenant_id"), ("collection_search_history", "tenant_id")];

const SQLITE_UP: &[&str] = &[
    "CREATE VIRTUAL TABLE collection_records_fts USING fts5(text, author, hashtags, \
     content='collection_records', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER collection_records_fts_ai AFTER INSERT ON collection_records BEGIN \
     INSERT INTO collection_records_fts(rowid, text, author, hashtags) \
     VALUES (new.rowid, new.text, new.author, new.hashtags); END",
    "CREATE TRIGGER collection_records_fts_ad AFTER DELETE ON collection_records BEGIN \
     INSERT INTO collection_records_fts(collection_records_fts, rowid, text, author, hashtags) \
     VALUES ('delete', old.rowid, old.text, old.author, old.hashtags); END",
    "CREATE TRIGGER collection_records_fts_au AFTER UPDATE OF text, author, hashtags ON collection_records BEGIN \
     INSERT INTO collection_records_fts(collection_records_fts, rowid, text, author, hashtags) \
     VALUES ('delete', old.rowid, old.text, old.author, old.hashtags); \
     INSERT INTO collection_records_fts(rowid, text, author, hashtags) \
     VALUES (new.rowid, new.text, new.author, new.hashtags); END",
    "INSERT INTO collection_records_fts(collection_records_fts) VALUES ('rebuild')",
];

const POSTGRES_UP: &[&str] = &[
    "ALTER TABLE collection_records ADD COLUMN search_vector tsvector GENERATED ALWAYS AS \
     (to_tsvector('simple'::regconfig, coalesce(text, '') || ' ' || coalesce(author, '') || ' ' \
     || coalesce(hashtags::text, ''))) STORED",
    "CREATE INDEX ix_collection_records_search ON collection_records USING GIN (search_vector)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let sql = if m.get_database_backend() == DbBackend::Postgres { POSTGRES_UP } else { SQLITE_UP };
        for s in sql {
            m.get_connection().execute_unprepared(s).await?;
        }
        // Sorting a folder by a metric or by date pages through these.
        for col in ["posted_at", "likes", "comments", "shares", "views"] {
            let name = format!("ix_collection_records_folder_{col}");
            let mut i = Index::create();
            i.name(&name).table(c("collection_records")).col(c("folder_id"));
            i.col(Alias::new(col)).col(c("id"));
            m.create_index(i.to_owned()).await?;
        }
        m.create_table(
            Table::create()
                .table(c("collection_saved_searches"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("project_id")))
                .col(uuid_null(c("folder_id")))
                .col(string(c("name")))
                .col(text(c("query")))
                .col(json(c("filter")))
                .col(json(c("sort")))
                .col(uuid(c("created_by")))
                .col(timestamp_with_time_zone(c("created_at")))
                .col(timestamp_with_time_zone(c("updated_at")))
                .foreign_key(&mut fk("collection_saved_searches", "project_id", "projects"))
                .foreign_key(&mut fk("collection_saved_searches", "folder_id", "collection_folders"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_collection_saved_searches_name",
            "collection_saved_searches",
            &["project_id", "name"],
            true,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(c("collection_search_history"))
                .col(pk_uuid(c("id")))
                .col(uuid(c("tenant_id")))
                .col(uuid(c("project_id")))
                .col(uuid(c("user_id")))
                .col(string(c("query")))
                .col(integer(c("uses")))
                .col(timestamp_with_time_zone(c("last_used_at")))
                .foreign_key(&mut fk("collection_search_history", "project_id", "projects"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ux_collection_search_history_query",
            "collection_search_history",
            &["project_id", "user_id", "query"],
            true,
        ))
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(c("collection_search_history")).to_owned()).await?;
        m.drop_table(Table::drop().table(c("collection_saved_searches")).to_owned()).await?;
        let conn = m.get_connection();
        if m.get_database_backend() == DbBackend::Postgres {
            conn.execute_unprepared("ALTER TABLE collection_records DROP COLUMN search_vector").await?;
        } else {
            for t in ["ai", "ad", "au"] {
                conn.execute_unprepared(&format!("DROP TRIGGER collection_records_fts_{t}")).await?;
            }
            conn.execute_unprepared("DROP TABLE collection_records_fts").await?;
        }
        Ok(())
    }
}
