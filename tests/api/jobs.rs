//! The background job machinery (`zygo::jobs`) through the work it runs today, billing's
//! renewals and charges: a provider outage is retried with backoff and charged once, a job
//! whose worker was lost runs again once its lease has expired, and a named job is added once.

use chrono::Duration;
use entity::job::{self, JobStatus};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;
use zygo::jobs::{NewJob, drain, enqueue};

use crate::{
    billing::{BillingRead, billing},
    billing_providers::{checkout, stripe_app},
    helpers::*,
};

/// The jobs of `kind`, across tenants (the test reads the queue as the workers do).
async fn jobs_of(app: &TestApp, kind: &str) -> Vec<job::Model> {
    job::Entity::find()
        .filter(job::Column::Kind.eq(kind))
        .all(&zygo::db::across_tenants(&app.ctx.db))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_renewal_charged_during_a_provider_outage_is_tried_again_later_and_charged_once() {
    let (app, stripe, clock) = stripe_app().await;
    let owner = app.verified_user("outage@example.com").await;
    let tenant = app.create_tenant(&owner, "outage").await;
    checkout(&app, &stripe, &owner, &tenant, "4242424242424242").await;

    // The renewal's charge meets Stripe answering 500 (twice: the charge, and nothing else).
    stripe
        .http
        .post(format!("{}/_outage", stripe.base))
        .json(&json!({ "requests": 1 }))
        .send()
        .await
        .unwrap();
    clock.advance(Duration::days(32));
    drain(&app.ctx).await.unwrap();
    let owner = app.log_in("outage@example.com").await;
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(b.invoices().edges.len(), 2, "the upgrade's invoice and the renewal's");
    assert_eq!(enum_name(&b.invoice(1).status), "OPEN", "not paid yet");
    assert_eq!(enum_name(&b.sub().status), "ACTIVE", "an outage is not a declined card: no dunning");
    let collect = jobs_of(&app, "billing.collect").await;
    assert_eq!(collect.len(), 1);
    assert_eq!(
        (collect[0].status, collect[0].attempts),
        (JobStatus::Queued, 1),
        "waiting for its next attempt"
    );
    assert!(collect[0].last_error.as_deref().unwrap_or("").contains("500"), "{:?}", collect[0].last_error);
    assert!(collect[0].run_at > clock.now(), "backed off, not retried at once");

    // Its time comes: charged, once, with the same idempotency key as the failed attempt.
    clock.advance(Duration::seconds(10));
    drain(&app.ctx).await.unwrap();
    let b = billing(&app, &owner, &tenant).await;
    assert_eq!(enum_name(&b.invoice(1).status), "PAID");
    let renewals: Vec<_> = stripe
        .requests("/v1/payment_intents")
        .await
        .into_iter()
        .filter(|r| r["idempotencyKey"].as_str().unwrap_or("").starts_with("renewal:"))
        .collect();
    assert_eq!(renewals.len(), 2, "the failed request and the one that charged");
    assert_eq!(renewals[0]["idempotencyKey"], renewals[1]["idempotencyKey"]);
    let collect = jobs_of(&app, "billing.collect").await;
    assert_eq!((collect[0].status, collect[0].attempts), (JobStatus::Succeeded, 2));

    // Draining again finds nothing to charge.
    drain(&app.ctx).await.unwrap();
    assert_eq!(
        stripe.requests("/v1/payment_intents").await.len(),
        3,
        "the upgrade's charge and the two above"
    );
}

#[tokio::test]
async fn a_job_whose_worker_was_lost_runs_again_once_its_lease_has_expired() {
    let app = spawn_app().await;
    let now = app.ctx.now();
    let queue = zygo::db::across_tenants(&app.ctx.db);
    // A sweep some instance claimed and then died with.
    let lost = job::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(None),
        kind: Set("billing.sweep".into()),
        key: Set(Some("lost".into())),
        payload: Set(json!(null)),
        status: Set(JobStatus::Running),
        run_at: Set(now - Duration::minutes(5)),
        attempts: Set(1),
        max_attempts: Set(3),
        lease_owner: Set(Some("an-instance-that-is-gone".into())),
        lease_expires_at: Set(Some(now - Duration::seconds(1))),
        last_error: Set(None),
        created_at: Set(now - Duration::minutes(5)),
        finished_at: Set(None),
    }
    .insert(&queue)
    .await
    .unwrap();
    drain(&app.ctx).await.unwrap();
    let after = job::Entity::find_by_id(lost.id).one(&queue).await.unwrap().unwrap();
    assert_eq!((after.status, after.attempts), (JobStatus::Succeeded, 2));
    assert_eq!(after.lease_owner, None);

    // A named job is added once, however often it is asked for.
    let job = || NewJob::new("billing.sweep", &json!(null)).key("once");
    assert!(enqueue(&queue, now, None, job()).await.unwrap());
    assert!(!enqueue(&queue, now, None, job()).await.unwrap());
    assert_eq!(
        jobs_of(&app, "billing.sweep").await.iter().filter(|j| j.key.as_deref() == Some("once")).count(),
        1
    );
}
