//! The feature flags as the layers below the modules see them: the access check asks which
//! modules the platform switched off for an organisation (their permissions answer
//! FEATURE_DISABLED, see [`crate::access::TenantCtx::require`]) and billing's feature gate
//! asks for the evaluated flags on top of the plan's features. The flags themselves (storage,
//! rules, evaluation, their cache) are `modules::flags`'s; the composition root plugs them in
//! here ([`crate::ctx::CtxParts::features`]), so nothing below the modules imports a module.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use futures::future::BoxFuture;
use sea_orm::DbErr;
use uuid::Uuid;

use crate::{auth::Permissions, ctx::Ctx, db::Reads};

/// Every flag's value for one organisation (and viewer): `true`/`false` for boolean flags, the
/// variant's name for variant flags.
pub type Evaluated = Arc<BTreeMap<String, serde_json::Value>>;

/// What the flags module answers.
pub trait FeatureFlags: Send + Sync {
    /// The flags of `tenant` for `user` (their platform role may match a rule; `None`: no
    /// viewer), the organisation on plan `plan` (`None`: its current plan, looked up).
    /// Whatever must be read is read through `reads` (the operation's shared transaction).
    fn evaluate<'a>(
        &'a self,
        ctx: &'a Ctx,
        reads: &'a Reads,
        tenant: Uuid,
        plan: Option<&'a str>,
        user: Option<Uuid>,
    ) -> BoxFuture<'a, Result<Evaluated, DbErr>>;

    /// The permissions `user` cannot use in each of `tenants` because a module gate
    /// (`module.<name>`) is off there; tenants missing from the answer have every module on.
    fn switched_off<'a>(
        &'a self,
        ctx: &'a Ctx,
        reads: &'a Reads,
        user: Uuid,
        tenants: &'a [Uuid],
    ) -> BoxFuture<'a, Result<HashMap<Uuid, Permissions>, DbErr>>;

    /// Reads the flags again (a flag changed, or the bus reconnected and an announcement
    /// may have been lost). Called outside any request, so requests read them from memory
    /// and never wait for a second connection.
    fn reload<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<(), DbErr>>;
}
