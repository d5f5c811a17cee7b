//! The per-request loader of the viewer's access to tenants: every field of a request that
//! needs a tenant's access asks here, so many fields cost one check (itself usually answered
//! by the instance's access cache).

use std::sync::Arc;

use crate::db::FastMap;

use crate::graphql::batch::Loader;
use sea_orm::DbErr;
use uuid::Uuid;

use super::TenantCtx;

/// The viewer's [`TenantCtx`] per tenant id (cached for the request: permission checks of
/// many fields cost one batch).
pub struct TenantAccessLoader {
    pub ctx: crate::ctx::Ctx,
    pub user_id: Option<Uuid>,
    pub api_key: Option<crate::auth::context::ApiKeyPrincipal>,
    /// The request's actor, carried by every [`TenantCtx`] this loader returns.
    pub actor: Arc<crate::access::Actor>,
    /// The operation's reads, which the returned [`TenantCtx`]s read through.
    pub reads: crate::db::Reads,
}

impl Loader<Uuid> for TenantAccessLoader {
    type Value = TenantCtx;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<FastMap<Uuid, TenantCtx>, Self::Error> {
        if let Some(key) = &self.api_key {
            // A key reaches its own tenant only, with its permissions cut down to what its
            // creator holds there now.
            if !keys.contains(&key.tenant_id) {
                return Ok(FastMap::default());
            }
            let mut creator =
                super::check::access_in(&self.ctx, &self.reads, key.created_by, &[key.tenant_id])
                    .await
                    .map_err(Arc::new)?;
            return Ok(creator
                .remove(&key.tenant_id)
                // A key never rides on its creator's support session.
                .filter(|tctx| tctx.support.is_none())
                .map(|mut tctx| {
                    tctx.permissions = tctx.permissions.and(key.permissions);
                    tctx.role_key = "api_key".into();
                    // A key is not its creator: no "own membership" shortcut (leaving, team
                    // ownership, reading one's own membership) may apply to it.
                    tctx.membership_id = Uuid::nil();
                    // Keys are machine credentials: the tenant's MFA rule is for people.
                    tctx.mfa_missing = false;
                    tctx.actor = self.actor.clone();
                    tctx.reads = self.reads.clone();
                    (key.tenant_id, tctx)
                })
                .into_iter()
                .collect());
        }
        match self.user_id {
            None => Ok(FastMap::default()),
            Some(user) => {
                let mut found =
                    super::check::access_in(&self.ctx, &self.reads, user, keys).await.map_err(Arc::new)?;
                for tctx in found.values_mut() {
                    if tctx.support.is_some() {
                        // Developer mode: every entry names the operator as `platform_admin`.
                        tctx.actor = Arc::new(crate::access::Actor {
                            kind: "platform_admin",
                            ..(*self.actor).clone()
                        });
                        tctx.reads = self.reads.clone();
                        continue;
                    }
                    tctx.actor = self.actor.clone();
                    tctx.reads = self.reads.clone();
                }
                Ok(found.into_iter().collect())
            }
        }
    }
}
