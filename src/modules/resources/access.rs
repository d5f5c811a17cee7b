//! Who may see a resource: the visibility rule, in Rust for one row and in SQL for a list.

use entity::{
    resource::{self, Visibility},
    team_member,
};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::{
    access::TenantCtx,
    auth::Permission,
    error::{AppError, AppResult},
};

/// The teams the member belongs to (for TEAM visibility).
pub async fn my_teams(db: &impl ConnectionTrait, tctx: &TenantCtx) -> AppResult<Vec<Uuid>> {
    Ok(tctx
        .scope()
        .find::<team_member::Entity>()
        .select_only()
        .column(team_member::Column::TeamId)
        .filter(team_member::Column::MembershipId.eq(tctx.membership_id))
        .into_tuple()
        .all(db)
        .await?)
}

/// Whether the member may see `r` (given their teams): its uploader always; TEAM its team's
/// members; ORGANISATION and LINK every holder of `resources.read`.
pub fn visible(tctx: &TenantCtx, teams: &[Uuid], r: &resource::Model) -> bool {
    if !tctx.has(Permission::ResourcesRead) {
        return false;
    }
    let mine = r.created_by.is_some() && r.created_by == tctx.acting_user();
    mine || match r.visibility {
        Visibility::Private => false,
        Visibility::Team => r.team_id.is_some_and(|t| teams.contains(&t)),
        Visibility::Organisation | Visibility::Link => true,
    }
}

/// [`visible`] as a filter of a list.
pub fn visible_condition(tctx: &TenantCtx, teams: &[Uuid]) -> Condition {
    let mut c = Condition::any()
        .add(resource::Column::Visibility.is_in([Visibility::Organisation, Visibility::Link]))
        .add(
            Condition::all()
                .add(resource::Column::Visibility.eq(Visibility::Team))
                .add(resource::Column::TeamId.is_in(teams.iter().copied())),
        );
    if let Some(me) = tctx.acting_user() {
        c = c.add(resource::Column::CreatedBy.eq(me));
    }
    c
}

/// Resource `id` as the member may see it (also from the bin when `deleted` allows it);
/// NOT_FOUND alike for one that does not exist and one they may not see.
pub async fn visible_resource(
    db: &impl ConnectionTrait,
    tctx: &TenantCtx,
    id: Uuid,
    deleted_ok: bool,
) -> AppResult<resource::Model> {
    tctx.require(Permission::ResourcesRead)?;
    let row = tctx.scope().find_by_id::<resource::Entity, _>(db, id).await?;
    let teams = my_teams(db, tctx).await?;
    match row {
        Some(r) if visible(tctx, &teams, &r) && (deleted_ok || r.deleted_at.is_none()) => Ok(r),
        _ => Err(AppError::NotFound("resource")),
    }
}
