//! The admin API's GraphQL types: the `Admin` object (every field needs a platform role,
//! checked once when `admin` resolves) and the rows it lists.

use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{platform_audit_entry, platform_role::PlatformRoleKind, tenant::TenantStatus};

use super::{directory, jobs, stats};
use crate::graphql::{app, relay};

/// A platform role: separate from any organisation role, granted from the command line or by
/// a super administrator.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "PlatformRole", remote = "entity::platform_role::PlatformRoleKind")]
pub enum PlatformRoleGql {
    /// Everything the admin API offers.
    SuperAdmin,
    /// Reads the admin views; changes nothing.
    Support,
}

/// Whether an organisation can be used.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "OrganisationStatus", remote = "entity::tenant::TenantStatus")]
pub enum OrganisationStatusGql {
    Active,
    Suspended,
}

/// The platform operators' console. Only holders of a platform role (with two-factor
/// authentication on) reach it.
pub struct Admin {
    pub role: PlatformRoleKind,
}

/// An organisation as the operators see it.
pub struct AdminOrganisation(pub directory::OrganisationRow);

#[Object]
impl AdminOrganisation {
    /// The organisation's global ID (a `Tenant`).
    async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::TENANT, self.0.tenant.id)
    }
    async fn name(&self) -> &str {
        &self.0.tenant.name
    }
    async fn slug(&self) -> &str {
        &self.0.tenant.slug
    }
    async fn status(&self) -> OrganisationStatusGql {
        self.0.tenant.status.into()
    }
    /// The current plan's key (`free` without a subscription).
    async fn plan(&self) -> String {
        self.0.plan_key.clone().unwrap_or_else(|| "free".into())
    }
    /// Active members.
    async fn member_count(&self) -> u64 {
        self.0.member_count
    }
    /// Workflow runs so far.
    async fn workflow_executions(&self) -> u64 {
        self.0.workflow_executions
    }
    /// Records collected so far.
    async fn collected_records(&self) -> u64 {
        self.0.collected_records
    }
    /// The newest entry of its audit log.
    async fn last_activity(&self) -> Option<DateTime<Utc>> {
        self.0.last_activity
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.tenant.created_at
    }
    /// The limits an operator set over its plan's (`adminSetOrganisationLimits`).
    async fn limit_overrides(&self) -> Vec<LimitOverride> {
        let o = crate::modules::billing::plans::Overrides::from_json(self.0.tenant.limit_overrides.as_ref());
        crate::modules::billing::plans::Limit::ALL
            .iter()
            .filter(|l| o.is_overridden(**l))
            .map(|&limit| LimitOverride { limit, value: o.get(limit) })
            .collect()
    }
}

/// One limit an operator set for an organisation.
#[derive(async_graphql::SimpleObject)]
pub struct LimitOverride {
    pub limit: crate::modules::billing::plans::Limit,
    /// None: no limit.
    pub value: Option<i64>,
}

/// A user account as the operators see it.
pub struct AdminUser(pub directory::UserRow);

#[Object]
impl AdminUser {
    async fn id(&self) -> ID {
        relay::to_global_id(relay::kind::USER, self.0.user.id)
    }
    async fn email(&self) -> &str {
        &self.0.user.email
    }
    async fn name(&self) -> &str {
        &self.0.user.name
    }
    async fn email_verified(&self) -> bool {
        self.0.user.email_verified_at.is_some()
    }
    async fn mfa_enabled(&self) -> bool {
        self.0.user.mfa_enabled()
    }
    async fn platform_role(&self) -> Option<PlatformRoleGql> {
        self.0.platform_role.map(Into::into)
    }
    /// Organisations the account is an active member of.
    async fn organisation_count(&self) -> u64 {
        self.0.organisation_count
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.user.created_at
    }
}

/// One background queue on the job dashboard.
#[derive(SimpleObject)]
pub struct JobQueue {
    /// The job kind (`billing.collect`, …), `mail` for the outbox, `workflow.execution` for runs.
    pub kind: String,
    pub queued: u64,
    pub running: u64,
    pub succeeded: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// When the longest-waiting due job became due.
    pub oldest_waiting: Option<DateTime<Utc>>,
}

impl From<jobs::Queue> for JobQueue {
    fn from(q: jobs::Queue) -> Self {
        Self {
            kind: q.kind,
            queued: q.queued,
            running: q.running,
            succeeded: q.succeeded,
            failed: q.failed,
            cancelled: q.cancelled,
            oldest_waiting: q.oldest_waiting,
        }
    }
}

/// Where a background job stands.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "JobStatus", remote = "entity::job::JobStatus")]
pub enum JobStatusGql {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

/// One background job.
pub struct AdminJob(pub entity::job::Model);

#[Object]
impl AdminJob {
    /// The job's ID (`Job` global ID): what `adminRetryJob` and `adminCancelJob` take.
    async fn id(&self) -> ID {
        relay::to_global_id(super::JOB, self.0.id)
    }
    async fn kind(&self) -> &str {
        &self.0.kind
    }
    async fn status(&self) -> JobStatusGql {
        self.0.status.into()
    }
    /// The organisation it works for (`Tenant` global ID); null for the platform's own jobs.
    async fn organisation_id(&self) -> Option<ID> {
        self.0.tenant_id.map(|t| relay::to_global_id(relay::kind::TENANT, t))
    }
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    async fn max_attempts(&self) -> i32 {
        self.0.max_attempts
    }
    /// The error of its last attempt.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    async fn run_at(&self) -> DateTime<Utc> {
        self.0.run_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at
    }
}

/// One entry of the platform audit log.
pub struct PlatformAuditEntry(pub platform_audit_entry::Model);

#[Object]
impl PlatformAuditEntry {
    async fn id(&self) -> ID {
        relay::to_global_id(super::PLATFORM_AUDIT_ENTRY, self.0.id)
    }
    /// The operator (`User` global ID); null for the command line.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(|u| relay::to_global_id(relay::kind::USER, u))
    }
    /// `admin.tenant_suspended`, `admin.role_granted`, …
    async fn action(&self) -> &str {
        &self.0.action
    }
    /// The organisation concerned (`Tenant` global ID), if any.
    async fn organisation_id(&self) -> Option<ID> {
        self.0.organisation_id.map(|t| relay::to_global_id(relay::kind::TENANT, t))
    }
    async fn target_type(&self) -> &str {
        &self.0.target_type
    }
    async fn target_id(&self) -> Option<&str> {
        self.0.target_id.as_deref()
    }
    /// The operator's written reason.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn metadata(&self) -> Option<Json<serde_json::Value>> {
        self.0.metadata.clone().map(Json)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// Counts of one time bucket.
#[derive(SimpleObject)]
pub struct StatisticsBucket {
    /// The bucket's first instant (a UTC day).
    pub from: DateTime<Utc>,
    pub organisations_created: u64,
    pub users_created: u64,
    pub executions: u64,
    pub collected_records: u64,
}

/// Revenue of one plan: paid invoices' totals.
#[derive(SimpleObject)]
pub struct PlanRevenue {
    pub plan: String,
    pub currency: String,
    /// Minor units.
    pub amount: i64,
}

/// The platform's numbers.
#[derive(SimpleObject)]
pub struct PlatformStatistics {
    pub organisations: u64,
    pub active_organisations: u64,
    pub users: u64,
    /// Accounts with a session used within the window.
    pub active_users: u64,
    pub executions: u64,
    pub collected_records: u64,
    /// Organisations on each plan (`free` for those without a subscription).
    pub organisations_by_plan: Vec<PlanCount>,
    pub revenue_by_plan: Vec<PlanRevenue>,
    /// One bucket per day of the window, oldest first.
    pub buckets: Vec<StatisticsBucket>,
}

/// How many organisations are on a plan.
#[derive(SimpleObject)]
pub struct PlanCount {
    pub plan: String,
    pub organisations: u64,
}

#[Object]
impl Admin {
    /// The caller's own platform role.
    async fn role(&self) -> PlatformRoleGql {
        self.role.into()
    }

    /// Support sessions (developer mode) into every organisation, newest first; `openOnly`
    /// keeps the pending and live ones.
    async fn support_sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] open_only: bool,
    ) -> Result<Vec<crate::modules::support::types::SupportSession>> {
        let views = crate::modules::support::service::all(app(ctx), open_only).await?;
        Ok(crate::modules::support::types::sessions(views))
    }

    /// Every organisation, oldest first; `search` matches name or slug.
    #[graphql(complexity = "relay::cost(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn organisations(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        status: Option<OrganisationStatusGql>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<AdminOrganisation>> {
        let args = relay::PageArgs::new(after, before, first, last);
        let status: Option<TenantStatus> = status.map(Into::into);
        let rows = directory::organisations(app(ctx), search.as_deref(), status, &args).await?;
        Ok(relay::to_connection(rows, |r| r.tenant.id, AdminOrganisation))
    }

    /// Every user account, oldest first; `search` matches e-mail or name.
    #[graphql(complexity = "relay::cost(first, last, child_complexity)")]
    async fn users(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<AdminUser>> {
        let args = relay::PageArgs::new(after, before, first, last);
        let rows = directory::users(app(ctx), search.as_deref(), &args).await?;
        Ok(relay::to_connection(rows, |r| r.user.id, AdminUser))
    }

    /// Every background queue with its counts by state and oldest waiting job.
    async fn job_queues(&self, ctx: &Context<'_>) -> Result<Vec<JobQueue>> {
        Ok(jobs::queues(app(ctx)).await?.into_iter().map(Into::into).collect())
    }

    /// Failed background jobs with their errors, oldest first; `kind` narrows to one kind.
    #[graphql(complexity = "relay::cost(first, last, child_complexity)")]
    async fn failed_jobs(
        &self,
        ctx: &Context<'_>,
        kind: Option<String>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<AdminJob>> {
        let args = relay::PageArgs::new(after, before, first, last);
        let rows = jobs::failed(app(ctx), kind.as_deref(), &args).await?;
        Ok(relay::to_connection(rows, |j| j.id, AdminJob))
    }

    /// The platform audit log, oldest first (page from the end with `last`);
    /// `organisationId` narrows to the entries about one organisation.
    #[graphql(complexity = "relay::cost(first, last, child_complexity)")]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        organisation_id: Option<ID>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<relay::Conn<PlatformAuditEntry>> {
        let org = organisation_id
            .map(|id| relay::decode_id("organisationId", &id, relay::kind::TENANT))
            .transpose()?;
        let args = relay::PageArgs::new(after, before, first, last);
        let rows = directory::audit_log(app(ctx), org, &args).await?;
        Ok(relay::to_connection(rows, |e| e.id, PlatformAuditEntry))
    }

    /// The platform's numbers over the last `days` days (1 to 90, default 30), by day.
    async fn statistics(&self, ctx: &Context<'_>, days: Option<i32>) -> Result<PlatformStatistics> {
        Ok(stats::statistics(app(ctx), days.unwrap_or(30)).await?)
    }
}
