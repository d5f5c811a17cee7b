//! The access of the user a run acts for: nodes that read the tenant's data show only what
//! the GraphQL API shows that user.

use crate::modules::workflows::{nodes::NodeError, runtime::Runner};

/// The access of the user a run acts for: who started it, or for runs started by a webhook,
/// a schedule or an error (no user) the workflow's creator. A node reading tenant data shows
/// only what the GraphQL API shows that user.
pub(crate) async fn acting_access(runner: &Runner) -> Result<crate::access::TenantCtx, NodeError> {
    let user = match runner.exec.created_by {
        Some(u) => Some(u),
        None => runner
            .scope
            .find_by_id::<entity::workflow::Entity, _>(
                &runner.scope.on(&runner.app.db),
                runner.exec.workflow_id,
            )
            .await?
            .and_then(|w| w.created_by),
    };
    let forbidden =
        || NodeError::new("config", "the user this run acts for is no longer a member of the organisation");
    let user = user.ok_or_else(forbidden)?;
    crate::access::access(&runner.app, user, &[runner.scope.tenant_id()])
        .await?
        .remove(&runner.scope.tenant_id())
        .ok_or_else(forbidden)
}

/// FORBIDDEN-like refusal of a source the acting user may not read.
pub(crate) fn require(
    tctx: &crate::access::TenantCtx,
    p: crate::auth::Permission,
    source: &str,
) -> Result<(), NodeError> {
    if tctx.has(p) {
        Ok(())
    } else {
        Err(NodeError::new(
            "config",
            format!(
                "config.source: reading `{source}` needs the permission `{}`, which the user this run acts for lacks",
                p.key()
            ),
        ))
    }
}

/// A run no one started (a schedule, a webhook, an error) acts as the workflow's creator; for
/// a node that changes things (`what`, e.g. "an infrastructure action"), the version it runs
/// must also have been published by someone holding `permission`, so an editor of the
/// workflow cannot borrow its creator's rights through the node.
pub(crate) async fn publisher_holds(
    runner: &Runner,
    permission: crate::auth::Permission,
    what: &str,
) -> Result<(), NodeError> {
    use sea_orm::{ColumnTrait, QueryFilter};
    if runner.exec.created_by.is_some() {
        return Ok(());
    }
    let refused = || {
        NodeError::new(
            "config",
            format!(
                "{what} in a run no one started needs a version published by someone with `{}`",
                permission.key()
            ),
        )
    };
    let version = runner.exec.version.ok_or_else(refused)?;
    let published = runner
        .scope
        .find::<entity::workflow_version::Entity>()
        .filter(entity::workflow_version::Column::WorkflowId.eq(runner.exec.workflow_id))
        .filter(entity::workflow_version::Column::Version.eq(version))
        .one(&runner.scope.on(&runner.app.db))
        .await?
        .and_then(|v| v.created_by)
        .ok_or_else(refused)?;
    let tenant = runner.scope.tenant_id();
    let access = crate::access::access(&runner.app, published, &[tenant])
        .await?
        .remove(&tenant)
        .ok_or_else(refused)?;
    if access.has(permission) { Ok(()) } else { Err(refused()) }
}
