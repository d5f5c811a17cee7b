//! The flags as this instance knows them and their evaluation for an organisation: every
//! flag is read in one statement at start-up and again whenever a change is announced
//! ([`topic`]) or the bus reconnects — flags change rarely and are asked on every access
//! check, so requests read them from memory and never wait for a connection for them. A
//! read that began before another is never kept over it. [`Flags`] is what the layers
//! below the modules ask ([`crate::access::features::FeatureFlags`]): the module gates for
//! the access check and the evaluated set for `Tenant.features` and billing's feature gate.
//! It never decides who may change a flag; that is [`super::service`]'s.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
};

use entity::feature_flag::{self, FlagKind};
use futures::{StreamExt, future::BoxFuture};
use sea_orm::{DbErr, EntityTrait, QueryOrder};
use uuid::Uuid;

use super::evaluate::{FlagValue, Rule, Subject, evaluate};
use crate::{
    access::{
        AccessChanged, TenantCtx,
        features::{Evaluated, FeatureFlags},
    },
    auth::{Permissions, permissions::module_permissions},
    ctx::Ctx,
    db::Reads,
    pubsub::{EventBus, Topic},
};

/// The platform topic on which flag changes are announced to every instance.
pub fn topic() -> Topic {
    Topic::platform("feature-flags-changed")
}

/// The prefix of a module gate's key: `module.collection`, …
pub const MODULE_PREFIX: &str = "module.";

/// One flag, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Flag {
    pub id: Uuid,
    pub key: String,
    pub kind: FlagKind,
    pub variants: Vec<String>,
    pub default: FlagValue,
    pub rules: Vec<Rule>,
}

impl Flag {
    /// Decodes a stored row; a row that does not decode (written by hand) counts as absent.
    pub fn from_model(m: &feature_flag::Model) -> Option<Self> {
        Some(Self {
            id: m.id,
            key: m.key.clone(),
            kind: m.kind,
            variants: serde_json::from_value(m.variants.clone()).ok()?,
            default: serde_json::from_value(m.default_value.clone()).ok()?,
            rules: serde_json::from_value(m.rules.clone()).ok()?,
        })
    }

    /// The module this flag switches on and off, if it is a module gate.
    pub fn module(&self) -> Option<&str> {
        self.key.strip_prefix(MODULE_PREFIX).filter(|_| self.kind == FlagKind::Boolean)
    }

    pub fn has_plan_rule(&self) -> bool {
        self.rules.iter().any(|r| matches!(r, Rule::Plan { .. }))
    }

    pub fn has_role_rule(&self) -> bool {
        self.rules.iter().any(|r| matches!(r, Rule::PlatformRole { .. }))
    }

    /// This flag's value for `subject`.
    pub fn value_for(&self, subject: &Subject<'_>) -> FlagValue {
        evaluate(&self.key, &self.default, &self.rules, subject)
    }
}

#[derive(Default)]
struct State {
    /// The newest read stored, by the order reads began: an older read finishing late never
    /// replaces a newer one.
    stored: u64,
    flags: Option<Arc<Vec<Flag>>>,
}

/// The flags of this instance ([`FeatureFlags`] for the layers below the modules).
#[derive(Default)]
pub struct Flags {
    /// Tickets handed to reads, in the order they began.
    tickets: std::sync::atomic::AtomicU64,
    state: Mutex<State>,
}

impl Flags {
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads every flag from `db` and keeps them (unless a read begun later was kept first).
    pub async fn load(&self, db: &impl sea_orm::ConnectionTrait) -> Result<Arc<Vec<Flag>>, DbErr> {
        let ticket = self.tickets.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        // The platform's own table, outside any organisation's wall.
        let rows = feature_flag::Entity::find().order_by_asc(feature_flag::Column::Key).all(db).await?;
        let flags: Arc<Vec<Flag>> = Arc::new(rows.iter().filter_map(Flag::from_model).collect());
        let mut state = self.state.lock().expect("flags");
        if ticket > state.stored {
            state.stored = ticket;
            state.flags = Some(flags.clone());
        }
        Ok(flags)
    }

    /// Every flag, by key: from memory once loaded (at start-up, then again on every
    /// announced change), else read through `db`.
    pub async fn all(&self, db: &impl sea_orm::ConnectionTrait) -> Result<Arc<Vec<Flag>>, DbErr> {
        if let Some(flags) = self.state.lock().expect("flags").flags.clone() {
            return Ok(flags);
        }
        self.load(db).await
    }
}

/// The key of the plan the organisation has now (through billing's cache of it).
async fn plan_of(ctx: &Ctx, reads: &Reads, tenant: Uuid) -> Result<String, DbErr> {
    let tctx = TenantCtx { reads: reads.clone(), ..TenantCtx::system(tenant) };
    crate::modules::billing::metering::granted_plan_cached(ctx, &tctx)
        .await
        .map(|p| p.key.clone())
        .map_err(|e| DbErr::Custom(format!("the plan of {tenant}: {e}")))
}

/// The platform role of `user`, as rules name it (`super_admin`, `support`).
async fn role_of(ctx: &Ctx, reads: &Reads, user: Option<Uuid>) -> Result<Option<String>, DbErr> {
    let Some(user) = user else { return Ok(None) };
    let role = crate::access::platform::role_of(&reads.outside(&ctx.db), user)
        .await
        .map_err(|e| DbErr::Custom(format!("the platform role of {user}: {e}")))?;
    Ok(role.and_then(|r| serde_json::to_value(r).ok()).and_then(|v| v.as_str().map(str::to_string)))
}

impl FeatureFlags for Flags {
    fn evaluate<'a>(
        &'a self,
        ctx: &'a Ctx,
        reads: &'a Reads,
        tenant: Uuid,
        plan: Option<&'a str>,
        user: Option<Uuid>,
    ) -> BoxFuture<'a, Result<Evaluated, DbErr>> {
        Box::pin(async move {
            let flags = self.all(&reads.outside(&ctx.db)).await?;
            if flags.is_empty() {
                return Ok(Evaluated::default());
            }
            // Only what some rule needs is looked up.
            let plan = match plan {
                Some(p) => p.to_string(),
                None if flags.iter().any(Flag::has_plan_rule) => plan_of(ctx, reads, tenant).await?,
                None => String::new(),
            };
            let role =
                if flags.iter().any(Flag::has_role_rule) { role_of(ctx, reads, user).await? } else { None };
            let subject = Subject { organisation_id: tenant, plan: &plan, platform_role: role.as_deref() };
            let out: BTreeMap<String, serde_json::Value> = flags
                .iter()
                .map(|f| {
                    let v = serde_json::to_value(f.value_for(&subject)).unwrap_or_default();
                    (f.key.clone(), v)
                })
                .collect();
            Ok(Arc::new(out))
        })
    }

    fn switched_off<'a>(
        &'a self,
        ctx: &'a Ctx,
        reads: &'a Reads,
        user: Uuid,
        tenants: &'a [Uuid],
    ) -> BoxFuture<'a, Result<HashMap<Uuid, Permissions>, DbErr>> {
        Box::pin(async move {
            let flags = self.all(&reads.outside(&ctx.db)).await?;
            let gates: Vec<&Flag> = flags.iter().filter(|f| f.module().is_some()).collect();
            let mut out = HashMap::new();
            if gates.is_empty() {
                return Ok(out);
            }
            let role = if gates.iter().any(|f| f.has_role_rule()) {
                role_of(ctx, reads, Some(user)).await?
            } else {
                None
            };
            let need_plan = gates.iter().any(|f| f.has_plan_rule());
            for &tenant in tenants {
                let plan = if need_plan { plan_of(ctx, reads, tenant).await? } else { String::new() };
                let subject =
                    Subject { organisation_id: tenant, plan: &plan, platform_role: role.as_deref() };
                let mut off = Permissions::EMPTY;
                for gate in &gates {
                    if gate.value_for(&subject) == FlagValue::Bool(false) {
                        off = off | module_permissions(gate.module().unwrap_or_default());
                    }
                }
                if !off.is_empty() {
                    out.insert(tenant, off);
                }
            }
            Ok(out)
        })
    }

    fn reload<'a>(&'a self, ctx: &'a Ctx) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(async move { self.load(&ctx.db).await.map(|_| ()) })
    }
}

/// Until the bus stops: reads the flags again (and forgets every cached access decision,
/// which carries the module gates) whenever any instance announces a flag change, the flags
/// whenever the bus reconnects, and forgets an organisation's cached access whenever its
/// plan changes (a plan rule may gate a module).
pub async fn follow(ctx: Ctx, bus: Arc<dyn EventBus>) {
    let plans = crate::modules::billing::metering::plan_topic();
    let mut events = futures::stream::select(
        futures::stream::select(bus.subscribe(&topic()), bus.subscribe(&Topic::bus_resumed())),
        bus.subscribe(&plans),
    );
    while let Some(event) = events.next().await {
        if event.topic == topic().as_str() || event.topic == Topic::bus_resumed().as_str() {
            if let Err(e) = ctx.features.reload(&ctx).await {
                tracing::warn!(error = %e, "reading the feature flags again failed");
            }
            ctx.access.clear();
        } else if let Ok(tenant) = serde_json::from_value::<Uuid>(event.payload.clone()) {
            ctx.access.forget(AccessChanged::Tenant(tenant));
        }
    }
}
