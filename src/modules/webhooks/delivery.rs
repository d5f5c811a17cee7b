//! Delivering events: the commit hook that turns a transaction's audit entries into delivery
//! jobs for the endpoints that asked for them (in that transaction: an event committed is
//! delivered at least once, whatever happens to the instance), the `webhooks.deliver` job that
//! signs and sends one event to one endpoint per the Standard Webhooks specification and logs
//! each attempt, its retry schedule, and switching off an endpoint that keeps failing.

use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{DateTime, Utc};
use entity::{audit_entry, job, webhook_delivery, webhook_endpoint};
use sea_orm::{ColumnTrait, DatabaseTransaction, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::catalog;
use crate::{
    access::{Change, TenantCtx, TenantTx},
    ctx::Ctx,
    error::{AppError, AppResult},
    graphql::relay,
    jobs::{CommitHook, Handler, JobError, JobResult, NewJob},
};

pub const DELIVER: &str = "webhooks.deliver";

/// The waits between attempts (the Standard Webhooks reference schedule): after the first
/// attempt fails, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h — eight attempts over about a day.
const SCHEDULE: &[i64] = &[5, 300, 1_800, 7_200, 18_000, 36_000, 36_000];

/// Attempts of one event to one endpoint.
pub const ATTEMPTS: i32 = SCHEDULE.len() as i32 + 1;

/// The most of a receiver's answer kept in the delivery log.
const EXCERPT_BYTES: usize = 1024;

/// One event for one endpoint: everything the job needs, so a retry sends the same message.
#[derive(Serialize, Deserialize)]
pub struct DeliverJob {
    pub endpoint: Uuid,
    /// `webhook-id`: the same on every attempt and replay of the event.
    pub message_id: String,
    pub event_type: String,
    /// The JSON body: `{type, timestamp, data}`.
    pub body: Value,
}

impl DeliverJob {
    pub fn job(self, key: String) -> NewJob {
        NewJob::new(DELIVER, &self).key(key).attempts(ATTEMPTS)
    }
}

/// The body of the event an audit entry records.
pub fn event_body(entry: &audit_entry::Model) -> Value {
    json!({
        "type": entry.action,
        "timestamp": entry.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {
            "organisationId": relay::to_global_id(relay::kind::TENANT, entry.tenant_id).to_string(),
            "auditEntryId": relay::to_global_id(relay::kind::AUDIT_ENTRY, entry.id).to_string(),
            "actor": { "type": entry.actor_type, "id": entry.actor_id },
            "target": { "type": entry.target_type, "id": entry.target_id },
            "before": entry.before,
            "after": entry.after,
        },
    })
}

/// The endpoints of `tenant` that receive `event_type` now.
fn wants(endpoint: &webhook_endpoint::Model, event_type: &str) -> bool {
    endpoint.enabled
        && endpoint.event_types.as_array().is_some_and(|a| a.iter().any(|t| t.as_str() == Some(event_type)))
}

/// Adds a delivery job per (entry, interested endpoint) to the committing transaction.
pub struct Fanout;

#[async_trait::async_trait]
impl CommitHook for Fanout {
    async fn committing(
        &self,
        ctx: &Ctx,
        txn: &DatabaseTransaction,
        tenant: Uuid,
        entries: &[audit_entry::Model],
    ) -> AppResult<bool> {
        for e in entries {
            debug_assert!(
                catalog::known(&e.action),
                "audit action `{}` is not in the webhook event catalog (src/modules/webhooks/catalog.rs)",
                e.action
            );
        }
        let scope = crate::db::TenantScope::new(tenant);
        let endpoints = scope
            .find::<webhook_endpoint::Entity>()
            .filter(webhook_endpoint::Column::Enabled.eq(true))
            .all(txn)
            .await?;
        let mut added = false;
        // Ordered endpoints: locked, and whether their next delivery must wait its turn.
        let mut waiting: std::collections::HashMap<Uuid, bool> = std::collections::HashMap::new();
        for e in entries {
            for ep in endpoints.iter().filter(|ep| wants(ep, &e.action)) {
                let message_id = format!("msg_{}", e.id.simple());
                let key = format!("{}:{message_id}", ep.id);
                let job = DeliverJob {
                    endpoint: ep.id,
                    message_id,
                    event_type: e.action.clone(),
                    body: event_body(e),
                }
                .job(key);
                let job = if ep.ordered {
                    let parked = match waiting.get(&ep.id) {
                        Some(_) => true,
                        None => {
                            super::ordering::lock(txn, ep.id).await?;
                            super::ordering::busy(txn, ep.id).await?
                        }
                    };
                    waiting.insert(ep.id, true);
                    if parked { job.at(super::ordering::parked_at(ctx.now())) } else { job }
                } else {
                    job
                };
                added |= crate::jobs::enqueue(txn, ctx.now(), Some(tenant), job).await?;
            }
        }
        Ok(added)
    }
}

/// A new signing secret: `whsec_` and 24 random bytes in base64.
pub fn new_secret() -> String {
    let bytes: [u8; 24] = rand::random();
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// `v1,<base64 HMAC-SHA256>` of `{id}.{timestamp}.{body}` under `secret` (`whsec_…`).
pub fn sign(secret: &str, message_id: &str, timestamp: i64, body: &str) -> String {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.trim_start_matches("whsec_"))
        .unwrap_or_else(|_| secret.as_bytes().to_vec());
    let mac = crate::crypto::hmac_sha256(&key, format!("{message_id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac))
}

/// The AAD an endpoint's secret is sealed under.
pub fn secret_aad(endpoint: Uuid) -> String {
    format!("webhook_endpoint:{endpoint}")
}

/// The secrets that sign now: the current one, and the previous one during its grace period.
fn signing_secrets(ctx: &Ctx, ep: &webhook_endpoint::Model, now: DateTime<Utc>) -> AppResult<Vec<String>> {
    let open =
        |stored: &str| ctx.keys.decrypt(ep.tenant_id, &secret_aad(ep.id), stored).map_err(AppError::Internal);
    let mut out = vec![open(&ep.secret)?];
    if let (Some(prev), Some(until)) = (&ep.previous_secret, ep.previous_secret_expires_at)
        && until > now
    {
        out.push(open(prev)?);
    }
    Ok(out)
}

/// The HTTP client of deliveries: public addresses only unless the operator allows private
/// ones (`ZYGO_WEBHOOK_ALLOW_PRIVATE`), 15 seconds per attempt, no redirects followed.
fn client(allow_private: bool) -> &'static reqwest::Client {
    static PUBLIC: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    static ANY: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    let cell = if allow_private { &ANY } else { &PUBLIC };
    cell.get_or_init(|| {
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("zygo-webhooks/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none());
        if !allow_private {
            // The workflow nodes' resolver: a name answering any internal address is refused
            // when the connection is made (no DNS rebinding).
            b = b
                .no_proxy()
                .dns_resolver(crate::modules::workflows::nodes::support::net::public_only_resolver());
        }
        b.build().expect("HTTP client builds")
    })
}

/// Refuses an IP-literal host that is not public (names are checked by the resolver).
fn check_host(url: &reqwest::Url, allow_private: bool) -> Result<(), String> {
    if allow_private {
        return Ok(());
    }
    let private = match url.host() {
        Some(url::Host::Ipv4(ip)) => !crate::modules::workflows::nodes::support::net::is_public(ip.into()),
        Some(url::Host::Ipv6(ip)) => !crate::modules::workflows::nodes::support::net::is_public(ip.into()),
        Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
        None => true,
    };
    if private { Err("the endpoint's address is private or internal".into()) } else { Ok(()) }
}

/// Sends one event to one endpoint.
pub struct Deliver;

#[async_trait::async_trait]
impl Handler for Deliver {
    fn kind(&self) -> &'static str {
        DELIVER
    }

    async fn run(&self, ctx: &Ctx, job: &job::Model) -> JobResult {
        let tenant = job.tenant_id.ok_or_else(|| JobError::Fail("a delivery without a tenant".into()))?;
        let p: DeliverJob = serde_json::from_value(job.payload.clone())
            .map_err(|e| JobError::Fail(format!("unreadable payload: {e}")))?;
        let tctx = TenantCtx::system(tenant);
        let endpoint = {
            let db = tctx.on(&ctx.db);
            let found = tctx.scope().find_by_id::<webhook_endpoint::Entity, _>(&db, p.endpoint).await?;
            tctx.reads.release().await;
            found
        };
        // Deleted or switched off since: nothing to send (a replay of it enables nothing); an
        // ordered endpoint's next delivery takes its turn (and ends the same way).
        let Some(ep) = endpoint.filter(|e| e.enabled) else {
            next_in_order(ctx, &tctx, p.endpoint, job.id).await?;
            return Ok(());
        };
        let now = ctx.now();
        let body = p.body.to_string();
        let signatures: Vec<String> = signing_secrets(ctx, &ep, now)?
            .iter()
            .map(|s| sign(s, &p.message_id, now.timestamp(), &body))
            .collect();
        let allow_private = ctx.config.webhooks.allow_private;
        let started = Instant::now();
        let sent = async {
            // An address that can never be called is not tried again.
            let url = reqwest::Url::parse(&ep.url).map_err(|e| (format!("bad URL: {e}"), true))?;
            check_host(&url, allow_private).map_err(|e| (e, true))?;
            let res = client(allow_private)
                .post(url)
                .header("content-type", "application/json")
                .header("webhook-id", &p.message_id)
                .header("webhook-timestamp", now.timestamp().to_string())
                .header("webhook-signature", signatures.join(" "))
                .body(body.clone())
                .send()
                .await
                .map_err(|e| (format!("not delivered: {}", without_url(&e)), false))?;
            let status = res.status().as_u16();
            let text = res.text().await.unwrap_or_default();
            Ok::<_, (String, bool)>((status, excerpt(&text)))
        }
        .await;
        let duration_ms = started.elapsed().as_millis() as i64;
        let (status, answer, error, permanent) = match sent {
            Ok((status, answer)) => (Some(status as i32), Some(answer), None, false),
            Err((e, permanent)) => (None, None, Some(e), permanent),
        };
        let succeeded = status.is_some_and(|s| (200..300).contains(&s));
        let last = permanent || job.attempts >= job.max_attempts;
        record(
            ctx,
            &tctx,
            &ep,
            &p,
            job.attempts,
            status,
            answer,
            error.clone(),
            duration_ms,
            succeeded,
            last,
        )
        .await?;
        if succeeded || last {
            if ep.ordered {
                next_in_order(ctx, &tctx, ep.id, job.id).await?;
            }
        }
        if succeeded {
            return Ok(());
        }
        let why = error.unwrap_or_else(|| format!("the receiver answered {}", status.unwrap_or_default()));
        if last {
            return Err(JobError::Fail(why));
        }
        let wait = SCHEDULE.get((job.attempts - 1).max(0) as usize).copied().unwrap_or(36_000);
        Err(JobError::RetryAfter(chrono::Duration::seconds(wait), why))
    }
}

/// Lets an ordered endpoint's next delivery go once delivery `done` has ended.
async fn next_in_order(ctx: &Ctx, tctx: &TenantCtx, endpoint: Uuid, done: Uuid) -> AppResult<()> {
    let tx = TenantTx::open(ctx, tctx).await?;
    super::ordering::release(&tx, endpoint, ctx.now(), Some(done), false).await?;
    tx.commit().await?;
    crate::jobs::wake(ctx).await;
    Ok(())
}

/// A reqwest error without the URL (which the delivery log already names).
fn without_url(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        e.to_string()
    }
}

fn excerpt(text: &str) -> String {
    let mut end = text.len().min(EXCERPT_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// Logs an attempt; after an event's last attempt fails, counts a failure against the endpoint
/// and switches it off (owners mailed) once `ZYGO_WEBHOOK_DISABLE_AFTER` events failed in a row;
/// a success resets the count.
#[allow(clippy::too_many_arguments)]
async fn record(
    ctx: &Ctx,
    tctx: &TenantCtx,
    ep: &webhook_endpoint::Model,
    p: &DeliverJob,
    attempt: i32,
    status: Option<i32>,
    answer: Option<String>,
    error: Option<String>,
    duration_ms: i64,
    succeeded: bool,
    last: bool,
) -> AppResult<()> {
    let mut tx = TenantTx::open(ctx, tctx).await?;
    let scope = tx.scope();
    scope
        .insert(
            &tx,
            webhook_delivery::ActiveModel {
                id: Set(Uuid::now_v7()),
                tenant_id: Set(ep.tenant_id),
                endpoint_id: Set(ep.id),
                message_id: Set(p.message_id.clone()),
                event_type: Set(p.event_type.clone()),
                attempt: Set(attempt),
                payload: Set(p.body.clone()),
                response_status: Set(status),
                response_excerpt: Set(answer),
                error: Set(error),
                duration_ms: Set(duration_ms),
                succeeded: Set(succeeded),
                created_at: Set(ctx.now()),
            },
        )
        .await?;
    // Read again in this transaction: other deliveries to the endpoint count too.
    let Some(current) = scope.find_by_id::<webhook_endpoint::Entity, _>(&tx, ep.id).await? else {
        return tx.commit().await;
    };
    if succeeded && current.consecutive_failures > 0 {
        let mut am: webhook_endpoint::ActiveModel = current.into();
        am.consecutive_failures = Set(0);
        scope.update(&tx, am).await?;
    } else if !succeeded && last {
        let failures = current.consecutive_failures + 1;
        let threshold = ctx.config.webhooks.disable_after;
        let disable = current.enabled && threshold > 0 && failures >= threshold;
        let mut am: webhook_endpoint::ActiveModel = current.clone().into();
        am.consecutive_failures = Set(failures);
        if disable {
            am.enabled = Set(false);
            am.disabled_reason = Set(Some(format!("{failures} events in a row were not delivered")));
            am.updated_at = Set(ctx.now());
        }
        scope.update(&tx, am).await?;
        if disable {
            let org = scope.find_by_id::<entity::tenant::Entity, _>(&tx, ep.tenant_id).await?;
            if let Some(org) = org {
                let link = format!("{}/o/{}/settings/webhooks", ctx.config.public_url, org.slug);
                for email in crate::modules::billing::service::owner_emails(&tx, scope).await? {
                    let mail = crate::mail::templates::webhook_disabled(&org.name, &ep.url, failures, &link);
                    crate::mail::enqueue(&tx, &email, mail).await?;
                }
                tx.wake_mail();
            }
            return tx
                .commit_with(Change {
                    action: "webhook_endpoint.disabled",
                    target_type: "WebhookEndpoint",
                    target_id: Some(ep.id),
                    before: Some(json!({ "enabled": true })),
                    after: Some(json!({ "enabled": false, "failures": failures })),
                })
                .await;
        }
    }
    tx.commit().await
}
