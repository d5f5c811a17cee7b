//! An organisation created by a platform operator for a customer: the organisation with its
//! built-in roles and no member, and an invitation of its first owner by e-mail — in one
//! transaction, audited in the organisation's log (actor `platform_admin`) and the platform's.

use entity::{invitation, role, tenant};
use sea_orm::{ColumnTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use crate::{
    access::{Actor, Change, TenantCtx, TenantTx, platform},
    ctx::Ctx,
    error::{AppError, AppResult},
    modules::{members::service::invite_in, tenancy::service as tenancy},
};

/// What the operator asks for.
pub struct NewOrganisation {
    pub name: String,
    pub slug: String,
    /// Checked by the caller.
    pub owner_email: String,
    pub reason: String,
}

/// Creates the organisation and invites its owner (the caller checked the super
/// administrator's role). CONFLICT on `input.slug` when the slug is taken.
pub async fn create(
    ctx: &Ctx,
    operator: Uuid,
    request: &Actor,
    req: NewOrganisation,
) -> AppResult<(tenant::Model, invitation::Model)> {
    let (name, slug) = tenancy::checked_name_and_slug(&req.name, &req.slug)?;
    tenancy::slug_free(ctx, &slug).await?;
    let now = ctx.now();
    let tenant_id = Uuid::now_v7();
    let tctx = TenantCtx::platform_operator(tenant_id, operator, request);
    let mut tx = TenantTx::open(ctx, &tctx).await?;
    let org = tenancy::seed_tenant(&tx, tenant_id, name, slug, tenancy::builtin_roles(), now).await?;
    let owner = tx
        .scope()
        .find::<role::Entity>()
        .filter(role::Column::Key.eq("owner"))
        .one(&tx)
        .await?
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the new organisation has no owner role")))?;
    let inv = invite_in(&mut tx, &req.owner_email, &owner, None).await?;
    tx.audit(Change {
        action: "tenant.created",
        target_type: "Tenant",
        target_id: Some(org.id),
        before: None,
        after: Some(tenancy::created_summary(&org)),
    })
    .await?;
    tx.audit(Change {
        action: "invitation.created",
        target_type: "Invitation",
        target_id: Some(inv.id),
        before: None,
        after: Some(json!({ "email": inv.email, "role": "owner" })),
    })
    .await?;
    platform::audit(
        &tx,
        platform::PlatformEntry {
            actor_id: Some(operator),
            action: "admin.organisation_created",
            organisation_id: Some(org.id),
            target_type: "Tenant",
            target_id: Some(org.id.to_string()),
            reason: Some(req.reason),
            metadata: Some(json!({ "slug": org.slug, "name": org.name, "owner": inv.email })),
        },
        now,
    )
    .await?;
    tx.wake_mail();
    tx.commit().await?;
    Ok((org, inv))
}
