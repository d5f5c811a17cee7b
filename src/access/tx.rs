//! [`TenantTx`]: the one unit of work of a tenant mutation. It checks the permission, opens
//! the walled write transaction, records audit entries and queues events as the work goes,
//! and on [`TenantTx::commit`] commits and only then publishes — so an event never announces
//! a change that was rolled back, and an audit entry exists exactly when its change does.
//! Dropping it without committing rolls everything back and publishes nothing.
//!
//! ```ignore
//! let mut tx = TenantTx::begin(ctx, tctx, Permission::TeamsManage).await?;
//! let team = tx.scope().insert(&tx, model).await?;
//! tx.audit(Change { action: "team.created", … }).await?;
//! tx.emit(topic, &payload);
//! tx.commit().await?;
//! ```

use entity::audit_entry;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, ExecResult, QueryResult, Statement};
use serde::Serialize;

use super::{Change, TenantCtx, audit};
use crate::{
    auth::Permission,
    ctx::Ctx,
    db::{TenantScope, begin_tenant_txn, lock_tenant},
    error::AppResult,
    pubsub::Topic,
};

/// A tenant mutation in progress. Use it wherever a connection is expected (`&tx`).
pub struct TenantTx<'c> {
    ctx: &'c Ctx,
    tctx: &'c TenantCtx,
    txn: DatabaseTransaction,
    entries: Vec<audit_entry::Model>,
    events: Vec<(Topic, serde_json::Value)>,
    wake_mail: bool,
    wake_jobs: bool,
}

impl<'c> TenantTx<'c> {
    /// Refuses unless the member holds `permission` (and the organisation is not suspended,
    /// for permissions that write), then opens the tenant's walled write transaction.
    pub async fn begin(ctx: &'c Ctx, tctx: &'c TenantCtx, permission: Permission) -> AppResult<Self> {
        tctx.require(permission)?;
        Self::open(ctx, tctx).await
    }

    /// Opens the transaction without a permission check, for the mutations whose rule depends
    /// on the rows (a team's own owner, one's own membership): the caller checks inside the
    /// transaction, before any write, and says so where it calls this.
    pub async fn open(ctx: &'c Ctx, tctx: &'c TenantCtx) -> AppResult<Self> {
        // A read-only support session changes nothing, whatever permission it may hold.
        if tctx.support.as_ref().is_some_and(|s| s.read_only) {
            return Err(crate::error::AppError::ForbiddenWith(
                "this support session is read-only: nothing of the organisation can be changed in it".into(),
            ));
        }
        // The operation's read transaction gives its connection back first: a request
        // never holds one connection while waiting for another.
        tctx.reads.release().await;
        let txn = begin_tenant_txn(&ctx.db, tctx.scope()).await?;
        Ok(Self {
            ctx,
            tctx,
            txn,
            entries: Vec::new(),
            events: Vec::new(),
            wake_mail: false,
            wake_jobs: false,
        })
    }

    /// [`TenantTx::begin`], then the tenant's write lock (see [`lock_tenant`]): for changes
    /// to memberships and roles, whose checks must see every committed change.
    pub async fn begin_locked(ctx: &'c Ctx, tctx: &'c TenantCtx, permission: Permission) -> AppResult<Self> {
        let tx = Self::begin(ctx, tctx, permission).await?;
        lock_tenant(&tx.txn, tctx.scope()).await?;
        Ok(tx)
    }

    /// The tenant's scoped query helpers.
    pub fn scope(&self) -> TenantScope {
        self.tctx.scope()
    }

    /// Who acts, and with which permissions.
    pub fn tctx(&self) -> &'c TenantCtx {
        self.tctx
    }

    /// The services' context this unit of work runs in.
    pub fn ctx(&self) -> &'c Ctx {
        self.ctx
    }

    /// Records `change` as an audit entry of this transaction, by the acting member.
    pub async fn audit(&mut self, change: Change<'_>) -> AppResult<()> {
        let entry = audit::record(&self.txn, self.scope(), &self.tctx.actor, change, self.ctx.now()).await?;
        self.entries.push(entry);
        Ok(())
    }

    /// Queues `payload` for `topic`, published after the commit (never before, never on
    /// rollback).
    pub fn emit<T: Serialize>(&mut self, topic: Topic, payload: &T) {
        match serde_json::to_value(payload) {
            Ok(value) => self.events.push((topic, value)),
            Err(e) => tracing::error!(error = %e, topic = topic.as_str(), "event not serialisable"),
        }
    }

    /// Wakes the mail worker after the commit: the transaction queued outbox rows.
    pub fn wake_mail(&mut self) {
        self.wake_mail = true;
    }

    /// Adds `job` for this tenant in this transaction (see [`crate::jobs::enqueue`]): it exists
    /// exactly when the change commits, and the workers of every instance are woken then.
    /// `Ok(false)`: a job of that kind and key exists already.
    pub async fn enqueue(&mut self, job: crate::jobs::NewJob) -> AppResult<bool> {
        let added =
            crate::jobs::enqueue(&self.txn, self.ctx.now(), Some(self.scope().tenant_id()), job).await?;
        self.wake_jobs |= added;
        Ok(added)
    }

    /// Adds a system `job` (no tenant: it outlives the tenant's rows, or works across tenants)
    /// in this transaction; see [`crate::db::with_system_rows`].
    pub async fn enqueue_system(&mut self, job: crate::jobs::NewJob) -> AppResult<bool> {
        let now = self.ctx.now();
        let added = crate::db::with_system_rows(&self.txn, Some(self.scope().tenant_id()), async |txn| {
            crate::jobs::enqueue(txn, now, None, job).await
        })
        .await?;
        self.wake_jobs |= added;
        Ok(added)
    }

    /// Records `change` (the mutation's one audit entry) and commits: the usual end of a
    /// mutation, [`Self::audit`] then [`Self::commit`].
    pub async fn commit_with(mut self, change: Change<'_>) -> AppResult<()> {
        self.audit(change).await?;
        self.commit().await
    }

    /// Runs the areas' commit hooks ([`crate::jobs::CommitHook`]) and commits; then announces the audit entries (see [`audit::announce`]), publishes the queued events in
    /// order, and wakes the mail and job workers if asked.
    pub async fn commit(self) -> AppResult<()> {
        let Self { ctx, tctx, txn, entries, events, wake_mail, mut wake_jobs } = self;
        if !entries.is_empty() {
            for hook in ctx.jobs.hooks() {
                wake_jobs |= hook.committing(ctx, &txn, tctx.scope().tenant_id(), &entries).await?;
            }
        }
        txn.commit().await?;
        if wake_mail {
            ctx.mail.wake();
        }
        if wake_jobs {
            crate::jobs::wake(ctx).await;
        }
        audit::announce(ctx, &entries).await;
        for (topic, value) in events {
            ctx.publish_value(&topic, value).await;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for TenantTx<'_> {
    fn get_database_backend(&self) -> DbBackend {
        self.txn.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.txn.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.txn.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.txn.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.txn.query_all_raw(stmt).await
    }

    fn support_returning(&self) -> bool {
        self.txn.support_returning()
    }
}
