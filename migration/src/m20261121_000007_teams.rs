//! Teams inside a tenant, their members with a team-scoped role, and team assignments
//! carried by invitations.

use sea_orm_migration::{prelude::*, schema::*};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m20261121_000007_teams"
    }
}

#[derive(DeriveIden)]
enum Teams {
    Table,
    Id,
    TenantId,
    Name,
    Description,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TeamMembers {
    Table,
    Id,
    TenantId,
    TeamId,
    MembershipId,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Tenants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Teams,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Teams::Table)
                .col(pk_uuid(Teams::Id))
                .col(uuid(Teams::TenantId))
                .col(string(Teams::Name))
                .col(string(Teams::Description))
                .col(timestamp_with_time_zone(Teams::CreatedAt))
                .col(timestamp_with_time_zone(Teams::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_teams_tenant")
                        .from(Teams::Table, Teams::TenantId)
                        .to(Tenants::Table, Tenants::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_teams_tenant_name")
                .table(Teams::Table)
                .col(Teams::TenantId)
                .col(Teams::Name)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(TeamMembers::Table)
                .col(pk_uuid(TeamMembers::Id))
                .col(uuid(TeamMembers::TenantId))
                .col(uuid(TeamMembers::TeamId))
                .col(uuid(TeamMembers::MembershipId))
                .col(string(TeamMembers::Role))
                .col(timestamp_with_time_zone(TeamMembers::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_team_members_team")
                        .from(TeamMembers::Table, TeamMembers::TeamId)
                        .to(Teams::Table, Teams::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .name("fk_team_members_membership")
                        .from(TeamMembers::Table, TeamMembers::MembershipId)
                        .to(Memberships::Table, Memberships::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("uq_team_members_team_membership")
                .table(TeamMembers::Table)
                .col(TeamMembers::TeamId)
                .col(TeamMembers::MembershipId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter().table(Invitations::Table).add_column(json_null(Invitations::Teams)).to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(Invitations::Table).drop_column(Invitations::Teams).to_owned())
            .await?;
        m.drop_table(Table::drop().table(TeamMembers::Table).to_owned()).await?;
        m.drop_table(Table::drop().table(Teams::Table).to_owned()).await
    }
}
