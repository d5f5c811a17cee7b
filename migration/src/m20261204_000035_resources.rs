//! Resources (files): an organisation's or a team's files with immutable versions, share
//! links and the log of every download.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261204_000035_resources"
    }
}

pub const TENANT_TABLES: &[(&str, &str)] = &[
    ("resources", "tenant_id"),
    ("resource_versions", "tenant_id"),
    ("resource_share_links", "tenant_id"),
    ("resource_downloads", "tenant_id"),
];

#[derive(DeriveIden)]
enum Resources {
    Table,
    Id,
    TenantId,
    TeamId,
    Name,
    Folder,
    Tags,
    Visibility,
    CurrentVersionId,
    VersionCount,
    DownloadCount,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden)]
enum ResourceVersions {
    Table,
    Id,
    TenantId,
    ResourceId,
    Number,
    Filename,
    SizeBytes,
    Sha256,
    MimeType,
    StorageKey,
    UploadedBy,
    UploadedAt,
}

#[derive(DeriveIden)]
enum ResourceShareLinks {
    Table,
    Id,
    TenantId,
    ResourceId,
    VersionId,
    PasswordHash,
    ExpiresAt,
    RevokedAt,
    DownloadCount,
    CreatedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ResourceDownloads {
    Table,
    Id,
    TenantId,
    ResourceId,
    VersionId,
    UserId,
    ShareLinkId,
    Ip,
    UserAgent,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Resources::Table)
                .col(pk_uuid(Resources::Id))
                .col(uuid(Resources::TenantId))
                .col(uuid_null(Resources::TeamId))
                .col(string(Resources::Name))
                .col(string(Resources::Folder))
                .col(json(Resources::Tags))
                .col(string(Resources::Visibility))
                .col(uuid_null(Resources::CurrentVersionId))
                .col(integer(Resources::VersionCount).default(0))
                .col(big_integer(Resources::DownloadCount).default(0))
                .col(uuid_null(Resources::CreatedBy))
                .col(timestamp_with_time_zone(Resources::CreatedAt))
                .col(timestamp_with_time_zone(Resources::UpdatedAt))
                .col(timestamp_with_time_zone_null(Resources::DeletedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Resources::Table, Resources::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_resources_tenant")
                .table(Resources::Table)
                .col(Resources::TenantId)
                .col(Resources::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ResourceVersions::Table)
                .col(pk_uuid(ResourceVersions::Id))
                .col(uuid(ResourceVersions::TenantId))
                .col(uuid(ResourceVersions::ResourceId))
                .col(integer(ResourceVersions::Number))
                .col(string(ResourceVersions::Filename))
                .col(big_integer(ResourceVersions::SizeBytes))
                .col(string(ResourceVersions::Sha256))
                .col(string(ResourceVersions::MimeType))
                .col(string(ResourceVersions::StorageKey))
                .col(uuid_null(ResourceVersions::UploadedBy))
                .col(timestamp_with_time_zone(ResourceVersions::UploadedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ResourceVersions::Table, ResourceVersions::ResourceId)
                        .to(Resources::Table, Resources::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // One number per version of a resource: two uploads racing for the same number cannot
        // both commit.
        m.create_index(
            Index::create()
                .name("ux_resource_versions_number")
                .table(ResourceVersions::Table)
                .col(ResourceVersions::ResourceId)
                .col(ResourceVersions::Number)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ResourceShareLinks::Table)
                .col(pk_uuid(ResourceShareLinks::Id))
                .col(uuid(ResourceShareLinks::TenantId))
                .col(uuid(ResourceShareLinks::ResourceId))
                .col(uuid_null(ResourceShareLinks::VersionId))
                .col(text_null(ResourceShareLinks::PasswordHash))
                .col(timestamp_with_time_zone(ResourceShareLinks::ExpiresAt))
                .col(timestamp_with_time_zone_null(ResourceShareLinks::RevokedAt))
                .col(big_integer(ResourceShareLinks::DownloadCount).default(0))
                .col(uuid_null(ResourceShareLinks::CreatedBy))
                .col(timestamp_with_time_zone(ResourceShareLinks::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ResourceShareLinks::Table, ResourceShareLinks::ResourceId)
                        .to(Resources::Table, Resources::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_resource_share_links_resource")
                .table(ResourceShareLinks::Table)
                .col(ResourceShareLinks::ResourceId)
                .col(ResourceShareLinks::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ResourceDownloads::Table)
                .col(pk_uuid(ResourceDownloads::Id))
                .col(uuid(ResourceDownloads::TenantId))
                .col(uuid(ResourceDownloads::ResourceId))
                .col(uuid(ResourceDownloads::VersionId))
                .col(uuid_null(ResourceDownloads::UserId))
                .col(uuid_null(ResourceDownloads::ShareLinkId))
                .col(string_null(ResourceDownloads::Ip))
                .col(string_null(ResourceDownloads::UserAgent))
                .col(timestamp_with_time_zone(ResourceDownloads::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ResourceDownloads::Table, ResourceDownloads::ResourceId)
                        .to(Resources::Table, Resources::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ix_resource_downloads_resource")
                .table(ResourceDownloads::Table)
                .col(ResourceDownloads::ResourceId)
                .col(ResourceDownloads::Id)
                .to_owned(),
        )
        .await?;
        crate::m20261121_000010_row_level_security::wall_tables(m, TENANT_TABLES).await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ResourceDownloads::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(ResourceShareLinks::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(ResourceVersions::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Resources::Table).to_owned()).await
    }
}
