//! The collaboration studio's documents: a team's documents (title, status, revision), their
//! ordered pages, each page's ordered sections (with the section's edit lock), and the
//! immutable published versions (a snapshot of the whole document each).
//!
//! Every table is tenant-owned and walled. Sections carry their document's id as well as
//! their page's, so a document's sections are read (and locked) in one statement.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000015_studio"
    }
}

/// The studio's tables that belong to one tenant (walled like the others).
pub const TENANT_TABLES: &[(&str, &str)] = &[
    ("documents", "tenant_id"),
    ("document_pages", "tenant_id"),
    ("document_sections", "tenant_id"),
    ("document_versions", "tenant_id"),
];

#[derive(DeriveIden)]
enum Documents {
    Table,
    Id,
    TenantId,
    TeamId,
    Title,
    Status,
    Revision,
    PublishedRevision,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum DocumentPages {
    Table,
    Id,
    TenantId,
    DocumentId,
    Position,
    Title,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DocumentSections {
    Table,
    Id,
    TenantId,
    DocumentId,
    PageId,
    Position,
    Kind,
    Content,
    LockHolder,
    LockExpiresAt,
    UpdatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DocumentVersions {
    Table,
    Id,
    TenantId,
    DocumentId,
    Number,
    Revision,
    Title,
    Snapshot,
    Note,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
}

fn fk(
    name: &str,
    from: impl IntoTableRef,
    col: impl IntoIden,
    to: impl IntoTableRef,
    to_col: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from, col)
        .to(to, to_col)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

fn index(name: &str, table: impl IntoTableRef, cols: &[&'static str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(Alias::new(*c));
    }
    if unique {
        i.unique();
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Documents::Table)
                .col(pk_uuid(Documents::Id))
                .col(uuid(Documents::TenantId))
                .col(uuid(Documents::TeamId))
                .col(string(Documents::Title))
                .col(string(Documents::Status))
                .col(big_integer(Documents::Revision).default(1))
                .col(big_integer_null(Documents::PublishedRevision))
                .col(uuid_null(Documents::CreatedBy))
                .col(timestamp_with_time_zone(Documents::CreatedAt))
                .col(timestamp_with_time_zone(Documents::UpdatedAt))
                .col(timestamp_with_time_zone_null(Documents::DeletedAt))
                .foreign_key(&mut fk(
                    "fk_documents_tenant",
                    Documents::Table,
                    Documents::TenantId,
                    Tenants::Table,
                    Tenants::Id,
                ))
                // A team's documents go with the team.
                .foreign_key(&mut fk(
                    "fk_documents_team",
                    Documents::Table,
                    Documents::TeamId,
                    Teams::Table,
                    Teams::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index("ix_documents_tenant", Documents::Table, &["tenant_id", "id"], false)).await?;
        m.create_index(index("ix_documents_team", Documents::Table, &["team_id", "id"], false)).await?;
        m.create_table(
            Table::create()
                .table(DocumentPages::Table)
                .col(pk_uuid(DocumentPages::Id))
                .col(uuid(DocumentPages::TenantId))
                .col(uuid(DocumentPages::DocumentId))
                .col(integer(DocumentPages::Position))
                .col(string(DocumentPages::Title))
                .col(timestamp_with_time_zone(DocumentPages::CreatedAt))
                .col(timestamp_with_time_zone(DocumentPages::UpdatedAt))
                .foreign_key(&mut fk(
                    "fk_document_pages_tenant",
                    DocumentPages::Table,
                    DocumentPages::TenantId,
                    Tenants::Table,
                    Tenants::Id,
                ))
                .foreign_key(&mut fk(
                    "fk_document_pages_document",
                    DocumentPages::Table,
                    DocumentPages::DocumentId,
                    Documents::Table,
                    Documents::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_document_pages_document",
            DocumentPages::Table,
            &["document_id", "position"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(DocumentSections::Table)
                .col(pk_uuid(DocumentSections::Id))
                .col(uuid(DocumentSections::TenantId))
                .col(uuid(DocumentSections::DocumentId))
                .col(uuid(DocumentSections::PageId))
                .col(integer(DocumentSections::Position))
                .col(string(DocumentSections::Kind))
                .col(json(DocumentSections::Content))
                .col(uuid_null(DocumentSections::LockHolder))
                .col(timestamp_with_time_zone_null(DocumentSections::LockExpiresAt))
                .col(uuid_null(DocumentSections::UpdatedBy))
                .col(timestamp_with_time_zone(DocumentSections::CreatedAt))
                .col(timestamp_with_time_zone(DocumentSections::UpdatedAt))
                .foreign_key(&mut fk(
                    "fk_document_sections_tenant",
                    DocumentSections::Table,
                    DocumentSections::TenantId,
                    Tenants::Table,
                    Tenants::Id,
                ))
                .foreign_key(&mut fk(
                    "fk_document_sections_page",
                    DocumentSections::Table,
                    DocumentSections::PageId,
                    DocumentPages::Table,
                    DocumentPages::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "ix_document_sections_page",
            DocumentSections::Table,
            &["page_id", "position"],
            false,
        ))
        .await?;
        m.create_index(index(
            "ix_document_sections_document",
            DocumentSections::Table,
            &["document_id"],
            false,
        ))
        .await?;
        m.create_table(
            Table::create()
                .table(DocumentVersions::Table)
                .col(pk_uuid(DocumentVersions::Id))
                .col(uuid(DocumentVersions::TenantId))
                .col(uuid(DocumentVersions::DocumentId))
                .col(integer(DocumentVersions::Number))
                .col(big_integer(DocumentVersions::Revision))
                .col(string(DocumentVersions::Title))
                .col(json(DocumentVersions::Snapshot))
                .col(string(DocumentVersions::Note))
                .col(uuid_null(DocumentVersions::CreatedBy))
                .col(timestamp_with_time_zone(DocumentVersions::CreatedAt))
                .foreign_key(&mut fk(
                    "fk_document_versions_tenant",
                    DocumentVersions::Table,
                    DocumentVersions::TenantId,
                    Tenants::Table,
                    Tenants::Id,
                ))
                .foreign_key(&mut fk(
                    "fk_document_versions_document",
                    DocumentVersions::Table,
                    DocumentVersions::DocumentId,
                    Documents::Table,
                    Documents::Id,
                ))
                .to_owned(),
        )
        .await?;
        // Version numbers are handed out once per document (two publishes at once: one fails).
        m.create_index(index(
            "uq_document_versions_number",
            DocumentVersions::Table,
            &["document_id", "number"],
            true,
        ))
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in ["document_versions", "document_sections", "document_pages", "documents"] {
            m.drop_table(Table::drop().table(Alias::new(t)).to_owned()).await?;
        }
        Ok(())
    }
}
