//! The per-request set of batch loaders ([`Batched`]). A fresh [`Loaders`] is attached to
//! every operation (HTTP request or WebSocket operation), never to the schema, so a batch
//! never mixes viewers or tenants.

use std::sync::Arc;

use crate::graphql::batch::Loader;
use async_graphql::Context;
use entity::{TenantOwned, user};
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, ModelTrait, QueryFilter, QuerySelect, Select};
use std::sync::OnceLock;

use crate::db::FastMap;

pub use super::loader_set::LoaderSet;
use uuid::Uuid;

use crate::{
    access::TenantCtx,
    access::{RoleGraph, loader::TenantAccessLoader},
    ctx::Ctx,
    db::Reads,
    db::page::{Rows, Window, load_scoped_pages},
    error::{AppError, AppResult},
    graphql::batch::{Batched, Dispatcher},
};

/// Users' profiles by id (never whole accounts: see [`user::Profile`]). Users are not
/// tenant-owned; who may reach a user is decided by the relation that leads to it (a
/// membership of a tenant the viewer can read).
pub struct UserLoader {
    pub db: DatabaseConnection,
    pub reads: Reads,
}

impl Loader<Uuid> for UserLoader {
    type Value = Arc<user::Profile>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<FastMap<Uuid, Self::Value>, Self::Error> {
        use sea_orm::{ConnectionTrait, QueryTrait};
        let backend = self.db.get_database_backend();
        let select = user::Entity::find()
            .select_only()
            .columns(user::Profile::COLUMNS)
            .filter(crate::db::key_in(backend, user::Column::Id, keys.iter().copied()));
        let rows =
            self.reads.outside(&self.db).query_all_raw(select.build(backend)).await.map_err(Arc::new)?;
        let users: Vec<user::Profile> = crate::db::positional::decode_all(rows).map_err(Arc::new)?;
        Ok(users.into_iter().map(|u| (u.id, Arc::new(u))).collect())
    }
}

/// The same page of one tenant-owned list for many tenants, keyed by `(tenant, window)`:
/// two statements per distinct window, whatever the number of tenants. Callers check the
/// viewer's access to each tenant before asking.
pub struct TenantPagesLoader<E: TenantOwned> {
    pub db: DatabaseConnection,
    pub reads: Reads,
    pub id_col: E::Column,
}

impl<E> Loader<(Uuid, Window)> for TenantPagesLoader<E>
where
    E: TenantOwned + Sync,
    E::Column: Send + Sync,
    E::Model: crate::db::positional::Decode + sea_orm::ModelTrait<Entity = E> + Clone + Send + Sync,
{
    type Value = Rows<E::Model>;
    type Error = Arc<DbErr>;

    async fn load(
        &self,
        keys: &[(Uuid, Window)],
    ) -> Result<FastMap<(Uuid, Window), Self::Value>, Self::Error> {
        let mut by_window: FastMap<Window, Vec<Uuid>> = FastMap::default();
        for (tenant, window) in keys {
            by_window.entry(*window).or_default().push(*tenant);
        }
        let mut out = FastMap::default();
        for (window, tenants) in by_window {
            let pages = load_scoped_pages(&self.db, &self.reads, E::find(), self.id_col, &tenants, window)
                .await
                .map_err(Arc::new)?;
            out.extend(pages.into_iter().map(|(tenant, rows)| ((tenant, window), rows)));
        }
        Ok(out)
    }
}

/// Rows of one tenant-owned table by `(tenant, id)`, for single rows a list reaches by id
/// (each team member's membership, …): one statement for all of them. A key never yields
/// another tenant's row; callers check the viewer's access to each tenant first.
pub struct TenantRowsLoader<E: TenantOwned> {
    pub db: DatabaseConnection,
    pub reads: Reads,
    pub id_col: E::Column,
}

impl<E> Loader<(Uuid, Uuid)> for TenantRowsLoader<E>
where
    E: TenantOwned + Sync,
    E::Column: Send + Sync,
    E::Model: crate::db::positional::Decode + sea_orm::ModelTrait<Entity = E> + Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Result<FastMap<(Uuid, Uuid), E::Model>, Self::Error> {
        let conn = self.reads.tenants(&self.db, keys.iter().map(|k| k.0));
        crate::db::load_scoped_by_ids::<E, _>(&conn, self.id_col, keys).await.map_err(Arc::new)
    }
}

/// Each tenant's one row of `E` among those `current` keeps (its current subscription, its
/// billing account), for a list of organisations in one statement.
pub struct PerTenantLoader<E: TenantOwned> {
    pub db: DatabaseConnection,
    pub reads: Reads,
    /// Keeps only the row that counts per tenant (e.g. `current_for IS NOT NULL`).
    pub current: Option<sea_orm::Condition>,
    pub _entity: std::marker::PhantomData<E>,
}

impl<E> Loader<Uuid> for PerTenantLoader<E>
where
    E: TenantOwned + Sync,
    E::Model: sea_orm::FromQueryResult + sea_orm::ModelTrait<Entity = E> + Clone + Send + Sync,
{
    type Value = E::Model;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<FastMap<Uuid, E::Model>, Self::Error> {
        use sea_orm::ModelTrait;
        let conn = self.reads.tenants(&self.db, keys.iter().copied());
        let mut q = E::find().filter(crate::db::key_in(
            self.db.get_database_backend(),
            E::tenant_column(),
            keys.iter().copied(),
        ));
        if let Some(c) = &self.current {
            q = q.filter(c.clone());
        }
        let rows = q.all(&conn).await.map_err(Arc::new)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| match r.get(E::tenant_column()) {
                sea_orm::Value::Uuid(Some(t)) => Some((t, r)),
                _ => None,
            })
            .collect())
    }
}

/// The organisations each user belongs to, suspended memberships included (for field guards
/// on users: a member manager still sees a suspended member's address). A cross-tenant read
/// by user id that precedes the viewer's own access check, which decides.
pub struct UserTenantsLoader {
    pub db: DatabaseConnection,
    pub reads: Reads,
}

impl Loader<Uuid> for UserTenantsLoader {
    type Value = Vec<Uuid>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[Uuid]) -> Result<FastMap<Uuid, Vec<Uuid>>, Self::Error> {
        use entity::membership;
        let rows: Vec<(Uuid, Uuid)> = membership::Entity::find()
            .select_only()
            .column(membership::Column::UserId)
            .column(membership::Column::TenantId)
            .filter(crate::db::key_in(
                self.db.get_database_backend(),
                membership::Column::UserId,
                keys.iter().copied(),
            ))
            .into_tuple()
            // By user, across tenants: the viewer's access check that follows decides.
            .all(&self.reads.across(&self.db))
            .await
            .map_err(Arc::new)?;
        let mut out: FastMap<Uuid, Vec<Uuid>> = FastMap::default();
        for (user, tenant) in rows {
            out.entry(user).or_default().push(tenant);
        }
        Ok(out)
    }
}

/// A filter of a child list, by its key (e.g. an execution status).
pub type ChildFilter<E> = fn(Select<E>, &str) -> Select<E>;

/// Pages of a child list of many parents — a team's members, a workflow's versions or runs,
/// a run's log lines, a secret's reads — keyed by `(tenant, parent, window, filter)`: two
/// statements per distinct window and filter, whatever the number of parents. Rows are kept
/// only under their own tenant's key.
pub struct ChildPagesLoader<E: TenantOwned> {
    pub db: DatabaseConnection,
    pub reads: Reads,
    /// The column naming the parent (`team_id`, `workflow_id`, …).
    pub parent: E::Column,
    pub id_col: E::Column,
    /// Applies a key's filter; `None` when the list has none.
    pub filter: Option<ChildFilter<E>>,
}

/// The key of one page of a child list: tenant, parent, window and the filter's value.
pub type ChildKey = (Uuid, Uuid, Window, Option<Arc<str>>);

impl<E> Loader<ChildKey> for ChildPagesLoader<E>
where
    E: TenantOwned + Send + Sync,
    E::Model: crate::db::positional::Decode + ModelTrait<Entity = E> + Clone + Send + Sync + TenantRow,
    E::Column: Send + Sync,
{
    type Value = Rows<E::Model>;
    type Error = Arc<DbErr>;

    async fn load(&self, keys: &[ChildKey]) -> Result<FastMap<ChildKey, Self::Value>, Self::Error> {
        // (tenant, parent) pairs by the window and filter they ask for.
        type Pairs = Vec<(Uuid, Uuid)>;
        let mut groups: FastMap<(Window, Option<Arc<str>>), Pairs> = FastMap::default();
        for (tenant, parent, window, filter) in keys {
            groups.entry((*window, filter.clone())).or_default().push((*tenant, *parent));
        }
        let mut out = FastMap::default();
        for ((window, filter), pairs) in groups {
            let tenants: Vec<Uuid> = pairs.iter().map(|p| p.0).collect();
            let parents: Vec<Uuid> = pairs.iter().map(|p| p.1).collect();
            let db = self.reads.tenants(&self.db, tenants.iter().copied());
            let mut select = E::find().filter(crate::db::key_in(
                self.db.get_database_backend(),
                E::tenant_column(),
                tenants,
            ));
            if let (Some(apply), Some(value)) = (self.filter, filter.as_deref()) {
                select = apply(select, value);
            }
            let pages =
                crate::db::page::load_pages_by(&db, select, self.parent, self.id_col, &parents, window)
                    .await
                    .map_err(Arc::new)?;
            for (tenant, parent) in pairs {
                let mut rows = pages.get(&parent).cloned().unwrap_or_else(empty_rows);
                rows.rows.retain(|r| r.tenant_id() == tenant);
                out.insert((tenant, parent, window, filter.clone()), rows);
            }
        }
        Ok(out)
    }
}

/// A row that knows its tenant (to keep rows under their own tenant's key).
pub trait TenantRow {
    fn tenant_id(&self) -> Uuid;
}

macro_rules! tenant_rows {
    ($($m:ident),*) => {
        $(impl TenantRow for entity::$m::Model {
            fn tenant_id(&self) -> Uuid {
                self.tenant_id
            }
        })*
    };
}
tenant_rows!(team_member, workflow_version, execution, execution_log, secret_access, webhook_delivery);

/// All loaders of one operation. Most operations use few of them and many use none (a
/// `{ __typename }`, a lookup answered by the access check, an idle subscription that lives
/// for hours), so the batched loaders ([`LoaderSet`], reached through `Deref`) and the access
/// loader are made on first use: an operation that never loads allocates none of them.
pub struct Loaders {
    set: OnceLock<Box<LoaderSet>>,
    /// Batched per turn of the operation like the other loaders (async-graphql's
    /// `DataLoader` waited 1 ms on a timer thread of its own before every first check).
    access: OnceLock<Batched<Uuid, TenantAccessLoader>>,
    /// The access checks this operation has answered, by tenant: every later ask is
    /// answered from here (refusals are not kept, and are checked again).
    access_found: std::sync::Mutex<FastMap<Uuid, Arc<TenantCtx>>>,
    /// What the loaders are made from.
    seed: Seed,
    /// Counts the operation once per organisation it is served for (see
    /// `modules::billing::metering`); `None` outside a request.
    meter: Option<crate::modules::billing::metering::OperationMeter>,
    /// The operation's reads (see [`Reads`]): every loader, and every access-checked read of
    /// a service through [`TenantCtx::on`], goes through them.
    pub reads: Reads,
    /// The operation's type and name (set by the transport once admission named them):
    /// what a support session's audit entry names.
    pub operation: OnceLock<(&'static str, Option<String>)>,
    /// The organisations this operation reached through a support session: each gets one
    /// audit entry of the operation, written before the first field there is answered.
    support_reached: std::sync::Mutex<FastMap<Uuid, Arc<tokio::sync::OnceCell<()>>>>,
    /// Access already granted, counted and (in a support session) audited in this operation,
    /// by tenant: the answer of [`Self::tenant_access`] for every later field of that tenant,
    /// without a wait. A field of a long list asks for it once per item.
    granted: std::sync::Mutex<FastMap<Uuid, Arc<TenantCtx>>>,
}

struct Seed {
    ctx: Ctx,
    dispatcher: Option<Arc<Dispatcher>>,
    viewer: Option<Uuid>,
    api_key: Option<crate::auth::context::ApiKeyPrincipal>,
    actor: crate::access::Actor,
}

impl std::ops::Deref for Loaders {
    type Target = LoaderSet;

    fn deref(&self) -> &LoaderSet {
        self.set
            .get_or_init(|| Box::new(LoaderSet::new(&self.seed.ctx.db, &self.reads, &self.seed.dispatcher)))
    }
}

impl Loaders {
    /// Loaders for the principal of `rctx` (a user, an API key, or nobody), reading through
    /// `reads` ([`Reads::shared`] for a query or mutation over HTTP, which ends with its
    /// response; separate for WebSocket operations, which may live for hours and must not
    /// hold a connection meanwhile). With a `dispatcher` the operation runs [`Driven`]
    /// by it and its batches are sent per turn (HTTP); without, by timer (WebSocket).
    ///
    /// [`Driven`]: super::batch::Driven
    pub fn for_request(
        ctx: &Ctx,
        rctx: &crate::auth::RequestCtx,
        reads: Reads,
        dispatcher: Option<Arc<Dispatcher>>,
    ) -> Self {
        let mut loaders = Self::new(
            ctx,
            reads,
            dispatcher,
            rctx.viewer.as_ref().map(|v| v.user_id),
            rctx.api_key.clone(),
            crate::access::Actor::from_request(rctx),
        );
        loaders.meter = Some(crate::modules::billing::metering::OperationMeter::new(ctx.clone()));
        loaders
    }

    pub fn new(
        ctx: &Ctx,
        reads: Reads,
        dispatcher: Option<Arc<Dispatcher>>,
        viewer: Option<Uuid>,
        api_key: Option<crate::auth::context::ApiKeyPrincipal>,
        actor: crate::access::Actor,
    ) -> Self {
        Self {
            set: OnceLock::new(),
            access: OnceLock::new(),
            access_found: Default::default(),
            seed: Seed { ctx: ctx.clone(), dispatcher, viewer, api_key, actor },
            meter: None,
            reads,
            operation: OnceLock::new(),
            support_reached: Default::default(),
            granted: Default::default(),
        }
    }

    /// The access loader, made on first use.
    fn access(&self) -> &Batched<Uuid, TenantAccessLoader> {
        self.access.get_or_init(|| {
            let seed = &self.seed;
            Batched::new(
                TenantAccessLoader {
                    ctx: seed.ctx.clone(),
                    user_id: seed.viewer,
                    api_key: seed.api_key.clone(),
                    actor: Arc::new(seed.actor.clone()),
                    reads: self.reads.clone(),
                },
                seed.dispatcher.clone(),
            )
        })
    }

    /// The viewer's access to `tenant_id` as checked in this operation, checked now if it
    /// has not been yet; `None` when refused.
    async fn checked_access(&self, tenant_id: Uuid) -> AppResult<Option<Arc<TenantCtx>>> {
        if let Some(tctx) = self.access_found.lock().expect("access lock").get(&tenant_id) {
            return Ok(Some(tctx.clone()));
        }
        let found = self
            .access()
            .load_one(tenant_id)
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
            .map(Arc::new);
        if let Some(tctx) = &found {
            self.access_found.lock().expect("access lock").insert(tenant_id, tctx.clone());
        }
        Ok(found)
    }

    /// Role `role_id` of tenant `tenant_id`, from the role graph read by the viewer's
    /// (cached) access check: no statement of its own.
    pub async fn role(&self, tenant_id: Uuid, role_id: Uuid) -> AppResult<Option<entity::role::Model>> {
        Ok(self.role_graph(tenant_id).await?.roles.get(&role_id).cloned())
    }

    /// The role graph of `tenant_id`, as read by the viewer's access check.
    pub async fn role_graph(&self, tenant_id: Uuid) -> AppResult<std::sync::Arc<RoleGraph>> {
        Ok(self.tenant_access(tenant_id).await?.roles.clone())
    }

    /// Membership `id` of the tenant of `tctx`, batched with every other one this operation
    /// asks for: the viewer's own, or any with `MEMBERS_READ`; NOT_FOUND otherwise.
    pub async fn membership(&self, tctx: &TenantCtx, id: Uuid) -> AppResult<entity::membership::Model> {
        if id != tctx.membership_id && !tctx.has(crate::auth::Permission::MembersRead) {
            return Err(AppError::NotFound("membership"));
        }
        self.memberships
            .load_one((tctx.tenant_id, id))
            .await
            .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
            .ok_or(AppError::NotFound("membership"))
    }

    /// Forgets cached access checks (and the role graphs read with them). Mutations that
    /// change roles or memberships call it so their payload shows the new state.
    pub fn forget_access(&self) {
        self.access_found.lock().expect("access lock").clear();
        self.granted.lock().expect("granted lock").clear();
    }

    /// The viewer's access to `tenant_id`: UNAUTHENTICATED without a viewer (reported by the
    /// caller), NOT_FOUND when not an active member.
    /// The operation is counted for the organisation the first time (see [`crate::modules::billing::metering::OperationMeter`]):
    /// QUOTA_EXCEEDED once the plan's API operations of the month are used up. Shared: a
    /// field of a long list asks for it once per item.
    pub async fn tenant_access(&self, tenant_id: Uuid) -> AppResult<Arc<TenantCtx>> {
        if let Some(tctx) = self.granted.lock().expect("granted lock").get(&tenant_id) {
            return Ok(tctx.clone());
        }
        // Boxed: the first ask's future (the access check, the metering, a support session's
        // audit entry) is large, and every resolver that asks would otherwise carry it.
        Box::pin(async {
            let tctx = self.tenant_access_unmetered(tenant_id).await?;
            if let Some(meter) = &self.meter {
                meter.count(&tctx).await?;
            }
            self.granted.lock().expect("granted lock").insert(tenant_id, tctx.clone());
            Ok(tctx)
        })
        .await
    }

    /// Marks `tenants` as reached by listing them (the viewer's organisations): their fields
    /// in this operation neither count nor are refused by the metering.
    pub fn unmetered(&self, tenants: impl IntoIterator<Item = Uuid>) {
        if let Some(meter) = &self.meter {
            let mut counted = meter.counted.lock().expect("meter lock");
            for t in tenants {
                counted.entry(t).or_insert_with(|| Arc::new(tokio::sync::OnceCell::new_with(Some(None))));
            }
        }
    }

    /// [`Self::tenant_access`] without counting the operation or refusing it over the plan's
    /// allowance: for the billing operations that are the way out of a quota (changing the
    /// plan, paying for it).
    pub async fn tenant_access_unmetered(&self, tenant_id: Uuid) -> AppResult<Arc<TenantCtx>> {
        let tctx = self.checked_access(tenant_id).await?.ok_or(AppError::NotFound("tenant"))?;
        crate::access::require_mfa_met(&tctx)?;
        if let Some(support) = &tctx.support {
            // Developer mode: the operation is audited in the organisation's log (actor
            // `platform_admin`) before anything of it is answered; no entry, no answer.
            let once =
                self.support_reached.lock().expect("support lock").entry(tenant_id).or_default().clone();
            once.get_or_try_init(|| async {
                let (op_type, op_name) = self.operation.get().cloned().unwrap_or(("unknown", None));
                crate::access::support::record_request(
                    &self.seed.ctx,
                    tenant_id,
                    support.session_id,
                    &tctx.actor,
                    op_type,
                    op_name.as_deref(),
                )
                .await
            })
            .await?;
        }
        Ok(tctx)
    }
}

/// The caller's access to the organisation named by the argument `field`: UNAUTHENTICATED
/// without a principal, BAD_USER_INPUT for an ID of another kind, NOT_FOUND unless a member.
pub async fn tenant_arg(ctx: &Context<'_>, field: &str, id: &async_graphql::ID) -> AppResult<Arc<TenantCtx>> {
    super::rctx(ctx).require_principal()?;
    let tenant = super::relay::decode_id(field, id, super::relay::kind::TENANT)?;
    loaders(ctx).tenant_access(tenant).await
}

/// [`tenant_arg`] without metering (see [`Loaders::tenant_access_unmetered`]).
pub async fn tenant_arg_unmetered(
    ctx: &Context<'_>,
    field: &str,
    id: &async_graphql::ID,
) -> AppResult<Arc<TenantCtx>> {
    super::rctx(ctx).require_principal()?;
    let tenant = super::relay::decode_id(field, id, super::relay::kind::TENANT)?;
    loaders(ctx).tenant_access_unmetered(tenant).await
}

/// The operation's loaders.
pub fn loaders<'a>(ctx: &Context<'a>) -> &'a Loaders {
    ctx.data_unchecked::<Loaders>()
}

/// A loader's shared database error as the field's error.
pub(crate) fn loader_err(e: std::sync::Arc<sea_orm::DbErr>) -> async_graphql::Error {
    crate::error::AppError::Internal(anyhow::anyhow!("{e}")).into()
}

/// One page of a child list of `parent` (see [`ChildPagesLoader`]), batched with the same
/// list of the other parents the operation resolves.
pub async fn child_page<E>(
    ctx: &Context<'_>,
    loader: &Batched<ChildKey, ChildPagesLoader<E>>,
    tenant: Uuid,
    parent: Uuid,
    window: Window,
    filter: Option<Arc<str>>,
) -> async_graphql::Result<Rows<E::Model>>
where
    E: TenantOwned + Send + Sync,
    E::Model: crate::db::positional::Decode + ModelTrait<Entity = E> + Clone + Send + Sync + TenantRow,
    E::Column: Send + Sync,
{
    Ok(loader
        .load_one((tenant, parent, crate::graphql::relay::counted(ctx, window), filter))
        .await
        .map_err(loader_err)?
        .unwrap_or_else(empty_rows))
}

/// The page of a parent the loader found no rows for.
pub(crate) fn empty_rows<M>() -> crate::db::page::Rows<M> {
    crate::db::page::Rows { rows: Vec::new(), total: 0, has_previous: false, has_next: false }
}
