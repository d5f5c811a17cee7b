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
